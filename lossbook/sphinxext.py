"""A small Sphinx extension for building the book's website.

With this book's extensions, some inline scripts reach a page twice: once
registered with an empty file name and once with none, which Sphinx's own
duplicate check treats as different.  sphinx-thebe's configuration script
is one of them, and declaring ``const THEBE_JS_URL`` twice is a JavaScript
error on every page.  This extension drops scripts whose file name and body
repeat an earlier one.
"""
from __future__ import annotations


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        key = (str(getattr(script, "filename", script) or ""), attributes.get("body"), attributes.get("src"))
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
