"""Kernel-free explorers: precomputed frames drawn by a few lines of inline JavaScript.

An explorer's figure is split into what never moves and what does.  What never
moves is drawn once, as a PNG (the *background*).  What moves is run over a
grid of slider values and stored as data: for every grid point and every
moving artist, a style (colour, width, dashes, marker, text...) and its
geometry in figure pixels, quantized to 0.1 px and delta-encoded, the whole
deflated and base64-encoded.  The page's browser inflates it
(``DecompressionStream``) and draws the artists of the chosen grid point over
the background on a ``<canvas>``.  Nothing is fetched: the fragment works from
``file://`` with the network off.
"""
from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import re
import zlib

import numpy as np

__all__ = ["static_html", "static_grid"]

_BG_SCALE = 2  # background resolution relative to the figure (crisp on high-density screens)
_FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
    "lambda": "λ", "mu": "μ", "sigma": "σ", "tau": "τ", "rho": "ρ", "nabla": "∇", "cdot": "·",
    "times": "×", "leq": "≤", "geq": "≥", "infty": "∞", "approx": "≈", "Delta": "Δ", "ell": "ℓ",
}


def static_grid(explorer, shrink: float = 1.0) -> list[np.ndarray]:
    """Values of each static slider: its steps, at most 41 (one slider) or 15 (two), plus its current value."""
    axes = []
    cap = 41 if len(explorer.static) == 1 else 15
    for name in explorer.static:
        p = explorer._by_name[name]
        native = p.grid()  # the slider's own steps
        n = explorer.grid.get(name, min(len(native), cap))
        n = max(2, int(round(n * shrink)))
        if n < len(native) and p.scale == "linear":  # stay on the slider's lattice: round labels
            values = native[np.unique(np.round(np.linspace(0, len(native) - 1, n)).astype(int))]
        else:
            values = p.grid(n)
        axes.append(np.unique(np.append(values, explorer.values[name])))
    return axes


# -- artists as data -----------------------------------------------------------


def _css(rgba) -> str | None:
    r, g, b, a = (float(c) for c in rgba)
    if a <= 0:
        return None
    return f"rgba({round(r * 255)},{round(g * 255)},{round(b * 255)},{round(a, 3):g})"


def _segments(xy: np.ndarray, height: float) -> list[list[int]]:
    """Display coordinates -> lists of delta-encoded 0.1-px integers, one per finite run (y pointing down)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    finite = np.isfinite(xy).all(axis=1)
    q = np.zeros_like(xy)
    q[finite, 0] = np.clip(np.round(xy[finite, 0] * 10), -1e7, 1e7)
    q[finite, 1] = np.clip(np.round((height - xy[finite, 1]) * 10), -1e7, 1e7)
    out = []
    breaks = np.flatnonzero(~finite)
    for run in np.split(np.arange(len(xy)), breaks):
        run = run[finite[run]]
        if len(run):
            pts = q[run]
            deltas = np.vstack([pts[:1], np.diff(pts, axis=0)])
            out.append(deltas.astype(np.int64).ravel().tolist())
    return out


def _plain(text: str) -> str:
    """Mathtext reduced to plain Unicode (canvas text cannot typeset TeX)."""
    if "$" not in text:
        return text
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _GREEK.get(m.group(1), m.group(1)), text)
    return re.sub(r"[${}\\]", "", text).replace("^", "").replace("_", "")


def _common(artist, px: float, height: float) -> dict:
    style = {"v": int(artist.get_visible())}
    box = artist.get_clip_box() if artist.get_clip_on() else None
    if box is not None:
        style["clip"] = [round(box.x0, 1), round(height - box.y1, 1), round(box.width, 1), round(box.height, 1)]
    return style


def _line(a, px, height):
    from matplotlib.colors import to_rgba

    style = {"t": "l", "c": _css(to_rgba(a.get_color(), a.get_alpha())), "w": round(a.get_linewidth() * px, 2)}
    if a.get_linestyle() in ("None", "", " "):
        style["c"] = None
    elif a.is_dashed():
        style["d"] = [round(d * px, 2) for d in a._dash_pattern[1]]
    style["cap"] = {"projecting": "square"}.get(a.get_solid_capstyle(), a.get_solid_capstyle())
    marker = a.get_marker()
    if marker not in (None, "None", "", " ", "none"):
        style.update(m=str(marker), ms=round(a.get_markersize() * px, 2),
                     mf=_css(to_rgba(a.get_markerfacecolor(), a.get_alpha())),
                     me=_css(to_rgba(a.get_markeredgecolor(), a.get_alpha())),
                     mw=round(a.get_markeredgewidth() * px, 2))
    data = a.get_xydata()
    if len(data) and a.get_drawstyle() not in (None, "default") and "m" not in style:
        from matplotlib.lines import STEP_LOOKUP_MAP  # the staircase matplotlib itself draws

        data = np.column_stack(STEP_LOOKUP_MAP[a.get_drawstyle()](data[:, 0], data[:, 1]))
    xy = a.get_transform().transform(data) if len(data) else np.zeros((0, 2))
    return style, _segments(xy, height)


def _text(a, px, height):
    from matplotlib.colors import to_rgba
    from matplotlib.text import Annotation

    if isinstance(a, Annotation):
        x, y = a._get_xy_display()
    else:
        x, y = a.get_transform().transform(a.get_unitless_position())
    weight = a.get_fontweight()
    style = {
        "t": "t", "s": _plain(a.get_text()), "c": _css(to_rgba(a.get_color(), a.get_alpha())),
        "f": f"{'italic ' if a.get_fontstyle() == 'italic' else ''}{weight if isinstance(weight, str) else int(weight)} "
             f"{round(a.get_fontsize() * px, 1)}px {_FONT}",
        "ha": a.get_horizontalalignment(), "va": a.get_verticalalignment(), "r": round(a.get_rotation(), 1),
    }
    patch = a.get_bbox_patch()
    if patch is not None:
        pad = getattr(patch.get_boxstyle(), "pad", 0.3) * a.get_fontsize() * px
        style["bb"] = [_css(patch.get_facecolor()), _css(patch.get_edgecolor()), round(pad, 1)]
    return style, [[int(round(x * 10)), int(round((height - y) * 10))]]


def _collection(a, px, height):
    from matplotlib.collections import PathCollection

    if a.get_array() is not None:  # colour-mapped: set_array only takes effect once the colours are mapped
        a.update_scalarmappable()
    fc = [_css(c) for c in a.get_facecolor()]
    ec = [_css(c) for c in a.get_edgecolor()]
    lw = [round(w * px, 2) for w in np.atleast_1d(a.get_linewidth())]

    def one(values):
        return values[0] if len(set(values)) == 1 else values

    if isinstance(a, PathCollection):
        offsets = a.get_offset_transform().transform(a.get_offsets()) if len(a.get_offsets()) else np.zeros((0, 2))
        radii = [round(float(np.sqrt(s)) * px / 2, 2) for s in np.atleast_1d(a.get_sizes())] or [0.0]
        style = {"t": "s", "r": one(radii), "fc": one(fc) if fc else None, "ec": one(ec) if ec else None,
                 "lw": one(lw)}
        marker = _scatter_marker(a)
        if marker != "o":
            style["m"] = marker
        return style, _segments(offsets, height)
    trans = a.get_transform()
    polys = [s for path in a.get_paths() for s in _segments_of_path(path, trans, height)]
    return {"t": "p", "fc": one(fc) if fc else None, "ec": one(ec) if ec else None, "lw": one(lw)}, polys


def _scatter_marker(collection) -> str:
    """The marker code of a scatter's points (``"o"`` unless it is one the page can draw)."""
    from matplotlib.markers import MarkerStyle

    paths = collection.get_paths()
    if len(paths) != 1:
        return "o"
    vertices = paths[0].vertices
    for code in ("s", "^", "v", "<", ">", "D", "d", "*", "X", "P", "x", "+"):
        style = MarkerStyle(code)
        reference = style.get_path().transformed(style.get_transform()).vertices
        if reference.shape == vertices.shape and np.allclose(reference, vertices):
            return code
    return "o"


def _segments_of_path(path, trans, height):
    return [s for poly in path.to_polygons(trans, closed_only=False) for s in _segments(poly, height)]


def _patch(a, px, height):
    style = {"t": "p", "fc": _css(a.get_facecolor()) if a.get_fill() else None, "ec": _css(a.get_edgecolor()),
             "lw": round(a.get_linewidth() * px, 2)}
    return style, _segments_of_path(a.get_path(), a.get_transform(), height)


def _describe(artist, px: float, height: float):
    """An artist's style and geometry at this instant, as JSON-ready data."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Text

    if not artist.get_visible():
        return {"v": 0}, []
    for kind, describe in ((Line2D, _line), (Text, _text), (Collection, _collection), (Patch, _patch)):
        if isinstance(artist, kind):
            style, geometry = describe(artist, px, height)
            style.update(_common(artist, px, height))
            return style, geometry
    raise ValueError(
        f"a static explorer cannot vary a {type(artist).__name__}: move lines, markers, "
        "patches, collections or texts in update, and draw images once in build"
    )


# -- the page fragment ------------------------------------------------------------


def _background(fig) -> bytes:
    """The figure without its moving artists (they are animated, so savefig skips them), as a small PNG."""
    from PIL import Image

    moving = [a for a in fig.findobj() if a.get_animated() and a.get_visible()]
    for a in moving:  # savefig draws animated artists too
        a.set_visible(False)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=fig.dpi * _BG_SCALE, facecolor=fig.get_facecolor())
    finally:
        for a in moving:
            a.set_visible(True)
    image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    best = buf.getvalue()
    for candidate in (image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE),):
        out = io.BytesIO()
        candidate.save(out, format="png", optimize=True)
        if len(out.getvalue()) < len(best):
            best = out.getvalue()
    return best


def _label(p, value: float) -> str:
    return str(int(round(value))) if p.integer else f"{value:.3g}"


def _frames(explorer, axes):
    """Run update over the grid; returns the moving artists and, per grid point, their described state."""
    fig = explorer.fig
    px = fig.dpi / 72
    height = fig.bbox.height
    saved = dict(explorer.values)
    points = [dict(zip(explorer.static, combo)) for combo in itertools.product(*axes)]
    explorer._stale()
    moving = {id(a): a for a in explorer._dynamic}
    for point in points:  # first pass: which artists does update touch?
        explorer._apply({**saved, **point})
        moving.update((id(a), a) for a in explorer._stale())
    order = {id(a): i for i, a in enumerate(explorer._dynamic)}
    artists = sorted(moving.values(), key=lambda a: (a.get_zorder(), order.get(id(a), len(order))))
    explorer._set_dynamic(artists)
    frames = []
    for point in points:  # second pass: describe them
        explorer._apply({**saved, **point})
        frames.append([_describe(a, px, height) for a in artists])
    explorer._apply(saved)
    explorer._stale()
    # Artists identical in every frame belong to the background.
    keep = [i for i in range(len(artists)) if any(f[i] != frames[0][i] for f in frames)]
    explorer._set_dynamic([artists[i] for i in keep])
    return [[f[i] for i in keep] for f in frames]


def _payload(frames) -> str:
    styles, index, packed = [], {}, []
    for frame in frames:
        row = []
        for style, geometry in frame:
            key = json.dumps(style, sort_keys=True)
            if key not in index:
                index[key] = len(styles)
                styles.append(style)
            row.append([index[key], geometry])
        packed.append(row)
    text = json.dumps({"styles": styles, "frames": packed}, separators=(",", ":"))
    return base64.b64encode(zlib.compress(text.encode(), 9)).decode("ascii")


def static_html(explorer) -> str:
    """A self-contained HTML fragment: background PNG, frames as deflated data, sliders and a drawing script.

    The grid is coarsened until the fragment fits ``explorer.budget_kb``.
    """
    budget = explorer.budget_kb * 1024
    for shrink in (1.0, 0.8, 0.65, 0.5, 0.4):
        axes = static_grid(explorer, shrink)
        html = _fragment(explorer, axes)
        if len(html.encode()) <= budget:
            return html
    raise ValueError(
        f"explorer {explorer.name!r}: static version is {len(html.encode()) / 1024:.0f} KB even on a coarse grid, "
        f"over its budget of {explorer.budget_kb:g} KB; send fewer points per curve or fewer moving artists"
    )


def _fragment(explorer, axes) -> str:
    frames = _frames(explorer, axes)
    fig = explorer.fig
    explorer._background = None
    background = base64.b64encode(_background(fig)).decode("ascii")
    width, height = (int(round(v)) for v in fig.bbox.size)
    params, controls = [], []
    for k, (name, values) in enumerate(zip(explorer.static, axes)):
        p = explorer._by_name[name]
        start = int(np.argmin(np.abs(values - explorer.values[name])))
        labels = [_label(p, v) for v in values]
        params.append({"name": name, "labels": labels, "start": start})
        any_play = any(n in explorer.play for n in explorer.static)
        play = (f'<button type="button" class="lbx-play" data-k="{k}" aria-label="play {_esc(p.display)}" '
                f'style="width:2.4em">&#9654;</button>') if name in explorer.play else (
                '<span style="width:2.4em"></span>' if any_play else "")
        controls.append(
            f'<div style="display:flex;align-items:center;gap:.6em;margin:.2em 0">{play}'
            f'<label style="min-width:7em">{_esc(p.display)}</label>'
            f'<input type="range" data-k="{k}" min="0" max="{len(values) - 1}" step="1" value="{start}" '
            f'style="flex:1;max-width:320px" aria-label="{_esc(p.display)}">'
            f'<output style="min-width:4em;font-family:monospace">{labels[start]}</output></div>'
        )
    fixed = [p for p in explorer.params if p.name not in explorer.static]
    note = ""
    if fixed:
        held = ", ".join(f"{_esc(p.display)} = {_label(p, explorer.values[p.name])}" for p in fixed)
        note = (f'<div style="font-size:.85em;color:#555">Precomputed here with {held}; '
                "run the notebook to move every slider.</div>")
    spec = {"W": width, "H": height, "bg": "data:image/png;base64," + background, "params": params,
            "data": _payload(frames)}
    spec_json = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    ident = hashlib.sha1(spec_json.encode()).hexdigest()[:10]
    return (
        f'<div class="lossbook-explorer" id="lbx-{ident}" data-explorer="{_esc(explorer.name)}" '
        f'style="max-width:{width}px;margin:.5em 0">'
        f'{"".join(controls)}'
        f'<canvas width="{width}" height="{height}" style="width:100%;height:auto;display:block" '
        f'role="img" aria-label="{_esc(explorer.name)}"></canvas>{note}'
        f'<script type="application/json" class="lbx-data">{spec_json}</script>'
        f"<script>{_SCRIPT}</script></div>"
    )


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# The drawing code, inlined into every fragment (about 3 KB): no library, no request.
_SCRIPT = r"""(function(root){
var spec=JSON.parse(root.querySelector('script.lbx-data').textContent);
var canvas=root.querySelector('canvas'),ctx=canvas.getContext('2d');
var W=spec.W,H=spec.H,P=spec.params,idx=P.map(function(p){return p.start;}),data=null,bg=new Image();
var ratio=Math.min(3,Math.max(1,Math.ceil(window.devicePixelRatio||1)));
canvas.width=W*ratio;canvas.height=H*ratio;
function inflate(b64){var bin=atob(b64),u=new Uint8Array(bin.length);for(var i=0;i<bin.length;i++)u[i]=bin.charCodeAt(i);
 return new Response(new Blob([u]).stream().pipeThrough(new DecompressionStream('deflate'))).text();}
function pts(s){var o=new Array(s.length),x=0,y=0;for(var i=0;i<s.length;i+=2){x+=s[i];y+=s[i+1];o[i]=x/10;o[i+1]=y/10;}return o;}
function marker(m,x,y,s){var r=s/2;ctx.beginPath();
 if(m==='s'){ctx.rect(x-r,y-r,s,s);}
 else if(m==='^'||m==='v'){var d=m==='^'?-1:1;ctx.moveTo(x,y+d*r);ctx.lineTo(x-r,y-d*r);ctx.lineTo(x+r,y-d*r);ctx.closePath();}
 else if(m==='D'||m==='d'){ctx.moveTo(x,y-r);ctx.lineTo(x+r*.7,y);ctx.lineTo(x,y+r);ctx.lineTo(x-r*.7,y);ctx.closePath();}
 else if(m==='<'||m==='>'){var e=m==='<'?-1:1;ctx.moveTo(x+e*r,y);ctx.lineTo(x-e*r,y-r);ctx.lineTo(x-e*r,y+r);ctx.closePath();}
 else if(m==='*'){for(var k=0;k<10;k++){var a=-Math.PI/2+k*Math.PI/5,q=k%2?r*.4:r;ctx.lineTo(x+q*Math.cos(a),y+q*Math.sin(a));}ctx.closePath();}
 else if(m==='X'||m==='P'){var w=r*.35,t=m==='X'?Math.PI/4:0;for(var k=0;k<4;k++){var a=t+k*Math.PI/2,c=Math.cos(a),n=Math.sin(a);
  ctx.lineTo(x+r*c+w*n,y+r*n-w*c);ctx.lineTo(x+r*c-w*n,y+r*n+w*c);ctx.lineTo(x+w*c-w*n,y+w*n+w*c);}ctx.closePath();}
 else if(m==='x'){ctx.moveTo(x-r,y-r);ctx.lineTo(x+r,y+r);ctx.moveTo(x-r,y+r);ctx.lineTo(x+r,y-r);return 1;}
 else if(m==='+'){ctx.moveTo(x-r,y);ctx.lineTo(x+r,y);ctx.moveTo(x,y-r);ctx.lineTo(x,y+r);return 1;}
 else{ctx.arc(x,y,m==='.'?r/2:r,0,2*Math.PI);}return 0;}
function paint(st,geo){
 if(!st.v)return;ctx.save();
 if(st.clip){ctx.beginPath();ctx.rect(st.clip[0],st.clip[1],st.clip[2],st.clip[3]);ctx.clip();}
 var i,j,p;
 if(st.t==='l'){
  if(st.c){ctx.beginPath();for(i=0;i<geo.length;i++){p=pts(geo[i]);ctx.moveTo(p[0],p[1]);for(j=2;j<p.length;j+=2)ctx.lineTo(p[j],p[j+1]);}
   ctx.strokeStyle=st.c;ctx.lineWidth=st.w;ctx.lineCap=st.cap||'butt';ctx.lineJoin='round';ctx.setLineDash(st.d||[]);ctx.stroke();ctx.setLineDash([]);}
  if(st.m){ctx.lineWidth=st.mw;for(i=0;i<geo.length;i++){p=pts(geo[i]);for(j=0;j<p.length;j+=2){var open=marker(st.m,p[j],p[j+1],st.ms);
   if(st.mf&&!open){ctx.fillStyle=st.mf;ctx.fill();}if(st.me||open){ctx.strokeStyle=st.me||st.mf;ctx.stroke();}}}}
 }else if(st.t==='s'){
  for(i=0;i<geo.length;i++){p=pts(geo[i]);for(j=0;j<p.length;j+=2){var k=j/2,r=Array.isArray(st.r)?st.r[k]:st.r;
   var open=0;if(st.m){open=marker(st.m,p[j],p[j+1],2*r);}else{ctx.beginPath();ctx.arc(p[j],p[j+1],r,0,2*Math.PI);}
   var fc=Array.isArray(st.fc)?st.fc[k]:st.fc,ec=Array.isArray(st.ec)?st.ec[k]:st.ec;
   if(open&&!ec)ec=fc;
   if(fc&&!open){ctx.fillStyle=fc;ctx.fill();}if(ec){ctx.lineWidth=Array.isArray(st.lw)?st.lw[k]:st.lw;ctx.strokeStyle=ec;ctx.stroke();}}}
 }else if(st.t==='p'){
  ctx.beginPath();for(i=0;i<geo.length;i++){p=pts(geo[i]);ctx.moveTo(p[0],p[1]);for(j=2;j<p.length;j+=2)ctx.lineTo(p[j],p[j+1]);}
  var f=Array.isArray(st.fc)?st.fc[0]:st.fc,e=Array.isArray(st.ec)?st.ec[0]:st.ec;
  if(f){ctx.fillStyle=f;ctx.fill();}if(e){ctx.lineWidth=Array.isArray(st.lw)?st.lw[0]:st.lw;ctx.strokeStyle=e;ctx.stroke();}
 }else if(st.t==='t'&&geo.length){
  var x=geo[0][0]/10,y=geo[0][1]/10,lines=st.s.split('\n');ctx.font=st.f;
  var size=parseFloat(st.f.split('px')[0].split(' ').pop()),lh=size*1.2;
  ctx.translate(x,y);ctx.rotate(-st.r*Math.PI/180);
  ctx.textAlign={left:'left',right:'right',center:'center'}[st.ha]||'left';
  ctx.textBaseline={top:'top',bottom:'bottom',baseline:'alphabetic'}[st.va]||'middle';
  var y0=st.va==='top'?0:(st.va==='center'||st.va==='center_baseline')?-(lines.length-1)*lh/2:-(lines.length-1)*lh;
  if(st.bb){var w=0;for(i=0;i<lines.length;i++)w=Math.max(w,ctx.measureText(lines[i]).width);
   var x0=ctx.textAlign==='left'?0:ctx.textAlign==='right'?-w:-w/2,top=y0-(ctx.textBaseline==='top'?0:ctx.textBaseline==='middle'?size*.6:size);
   ctx.beginPath();ctx.rect(x0-st.bb[2],top-st.bb[2],w+2*st.bb[2],lines.length*lh+2*st.bb[2]-lh+size*1.1);
   if(st.bb[0]){ctx.fillStyle=st.bb[0];ctx.fill();}if(st.bb[1]){ctx.lineWidth=1;ctx.strokeStyle=st.bb[1];ctx.stroke();}}
  ctx.fillStyle=st.c||'#000';for(i=0;i<lines.length;i++)ctx.fillText(lines[i],0,y0+i*lh);
 }
 ctx.restore();}
function draw(){if(!data||!bg.complete)return;var f=data.frames[P.length===2?idx[0]*P[1].labels.length+idx[1]:idx[0]];
 ctx.setTransform(ratio,0,0,ratio,0,0);ctx.clearRect(0,0,W,H);ctx.drawImage(bg,0,0,W,H);
 for(var i=0;i<f.length;i++)paint(data.styles[f[i][0]],f[i][1]);root.setAttribute('data-frame',String(idx.join(',')));}
function show(k){var out=root.querySelectorAll('output')[k];out.textContent=P[k].labels[idx[k]];draw();}
root.querySelectorAll('input[type=range]').forEach(function(el){el.addEventListener('input',function(){var k=+el.dataset.k;idx[k]=+el.value;show(k);});});
root.querySelectorAll('button.lbx-play').forEach(function(b){var timer=null;b.addEventListener('click',function(){
 var k=+b.dataset.k,el=root.querySelector('input[data-k="'+k+'"]');
 if(timer){clearInterval(timer);timer=null;b.innerHTML='&#9654;';return;}
 if(idx[k]>=P[k].labels.length-1){idx[k]=0;}b.innerHTML='&#10074;&#10074;';
 timer=setInterval(function(){el.value=idx[k];show(k);if(idx[k]>=P[k].labels.length-1){clearInterval(timer);timer=null;b.innerHTML='&#9654;';}else idx[k]++;},90);});});
bg.onload=draw;bg.src=spec.bg;
inflate(spec.data).then(function(t){data=JSON.parse(t);draw();root.setAttribute('data-ready','1');});
})(document.currentScript.parentElement);"""
