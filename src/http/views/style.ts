/**
 * The one stylesheet of every page, served by the app (at `/assets/style.css` by default).
 * Self-contained: system fonts, no `url()` and no `@import`, so pages load nothing from
 * other sites and still look right if the CSS arrives late or not at all (plain HTML).
 */
import { dark, light, type Palette } from './palette.js';

function customProperties(palette: Palette): string {
  return Object.entries(palette)
    .map(([name, value]) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}:${value}`)
    .join(';');
}

/** The stylesheet text (a few KB). Serve it as `text/css` with a long cache lifetime. */
export const stylesheet = `:root{${customProperties(light)};color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{${customProperties(dark)}}}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;min-height:100vh;min-height:100dvh;display:flex;flex-direction:column;background:var(--bg);color:var(--text);font:1rem/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
a{color:var(--accent);text-underline-offset:.18em}
a:hover{color:var(--accent-hover)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:.75rem;top:-4rem;padding:.5rem .75rem;background:var(--surface);border-radius:6px}
.skip:focus{top:.75rem}
.site{width:100%;max-width:60rem;margin:0 auto;padding:1.5rem 1.5rem .5rem;text-align:center}
.brand{display:inline-flex;align-items:center;gap:.5rem;margin:0;font-weight:700;font-size:1.05rem;letter-spacing:-.01em}
.brand svg{color:var(--accent)}
.brand .cut{stroke:var(--bg)}
main{flex:1;display:flex;justify-content:center;align-items:flex-start;padding:clamp(.5rem,6vh,4rem) 1rem 2rem}
.card{width:100%;max-width:31rem;background:var(--surface);border:1px solid var(--border);border-radius:16px;padding:2.5rem 2.25rem;box-shadow:0 1px 2px rgb(16 24 40/.05),0 8px 24px rgb(16 24 40/.06)}
.card.wide{max-width:46rem}
.card>:last-child{margin-bottom:0}
.icon{display:grid;place-items:center;width:3rem;height:3rem;border-radius:50%;margin-bottom:1.25rem}
.success{color:var(--success-fg);background:var(--success-bg)}
.warning{color:var(--warning-fg);background:var(--warning-bg)}
.danger{color:var(--danger-fg);background:var(--danger-bg)}
.info{color:var(--info-fg);background:var(--info-bg)}
h1{font-size:1.625rem;line-height:1.25;letter-spacing:-.015em;margin:0 0 .75rem;text-wrap:balance}
h2{font-size:1.0625rem;line-height:1.35;margin:0 0 .25rem}
p{margin:0 0 1rem}
.lede{font-size:1.0625rem}
.muted,.hint{color:var(--muted)}
.hint{font-size:.9375rem}
.note{background:var(--note-bg);color:var(--note-text);border-radius:10px;padding:.75rem 1rem}
.actions{margin:1.5rem 0 1rem}
form{margin:1.5rem 0 1rem}
label{display:block;font-weight:600;margin-bottom:.375rem}
input{display:block;width:100%;min-height:2.875rem;padding:.625rem .75rem;margin-bottom:.875rem;font:inherit;color:var(--text);background:var(--surface);border:1px solid var(--field-border);border-radius:10px}
input[aria-invalid=true]{border:2px solid var(--danger-fg)}
.error{display:flex;gap:.375rem;align-items:center;color:var(--danger-fg);font-weight:600;margin:0 0 .5rem}
.button{display:flex;align-items:center;justify-content:center;width:100%;min-height:2.875rem;padding:.625rem 1.25rem;font:inherit;font-weight:600;text-align:center;text-decoration:none;cursor:pointer;color:var(--on-accent);background:var(--accent);border:1px solid transparent;border-radius:10px}
.button:hover{color:var(--on-accent);background:var(--accent-hover)}
.button.secondary{color:var(--accent);background:transparent;border-color:var(--field-border)}
.button.secondary:hover{color:var(--accent-hover);background:var(--bg)}
code,pre,.links a{font:.875rem/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
code,.links a{overflow-wrap:anywhere}
.banner{display:flex;gap:.625rem;align-items:flex-start;font-size:.9375rem}
.banner svg,.error svg{flex:none}
.mails{list-style:none;margin:1.5rem 0 0;padding:0}
.mail{border-top:1px solid var(--border);padding:1.25rem 0}
.mail:last-child{padding-bottom:0}
.meta{color:var(--muted);font-size:.9375rem;margin:0 0 .75rem}
.meta span{display:inline-block;margin-right:1rem}
.links{list-style:none;margin:0 0 .5rem;padding:0}
.links a{display:block;padding:.625rem .875rem;margin-bottom:.5rem;border:1px solid var(--border);border-radius:10px;background:var(--bg)}
summary{cursor:pointer;color:var(--accent);padding:.375rem 0}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--bg);border:1px solid var(--border);border-radius:10px;padding:.875rem 1rem;margin:.5rem 0 0}
footer.site{text-align:center;font-size:.875rem;color:var(--muted)}
@media (max-width:30rem){.site{padding:1rem}.card{padding:1.75rem 1.25rem;border-radius:14px}h1{font-size:1.4375rem}}
`;
