"""The page's CSS and the small script that makes citations, copy and export work.

The script is one delegated click listener: an answer block (web/render.py) carries
its sources' clauses, so a click on [n] needs no server round trip — on a wide screen
the clause is shown in the panel beside the chat (#zc-panel), on a narrow one it opens
directly under the answer. Copy puts the answer's clean text on the clipboard; export
downloads its Markdown. It also turns Gradio's few built-in English toasts into Chinese.
"""

CSS = """
#status .status { font-size: 0.9em; padding: 4px 8px; border-radius: 6px; }
#status .ok { color: #2f5f2f; background: #eef7ee; }
#status .busy { color: #6b5000; background: #fff8e1; }
#status .err { color: #a40000; background: #fdecea; }
#status .warn { color: #6b3d00; background: #fff1d6; font-weight: 600; margin-bottom: 4px; }
.dark #status .warn { color: #ffdca8; background: #402a08; }
.dark #status .ok { color: #bfe5bf; background: #1f3a1f; }
.dark #status .busy { color: #ffe9a8; background: #3d3210; }
.dark #status .err { color: #ffc9c2; background: #4a1c18; }
#status progress { width: 100%; height: 10px; }
.examples { align-items: center; gap: 6px; flex-wrap: wrap; }
.examples .ex-label { flex: 0 0 auto !important; min-width: 0 !important; }
.examples .ex { flex: 0 1 auto !important; min-width: 0 !important; }

/* a clause, in the side panel, under an answer, or in the documents tab */
.clause-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 12px 14px;
               background: var(--background-fill-secondary); line-height: 1.7; color: var(--body-text-color); }
.clause-card.hint { color: var(--body-text-color-subdued); }
.clause-title { font-weight: 600; font-size: 1.05em; }
.clause-meta, .clause-path { color: var(--body-text-color-subdued); font-size: 0.9em; }
.clause-path b { color: var(--body-text-color); }
.clause-text { margin-top: 8px; }
mark { background: #ffe066; color: #1a1a1a; padding: 0 2px; border-radius: 2px; }
.dark mark { background: #e0b000; color: #111; }
.zc-num { color: var(--color-accent); }

/* an answer in the chat */
.zc-answer .zc-text { line-height: 1.75; }
.zc-answer button.zc-cite, .zc-answer button.zc-src {
  border: none; background: none; padding: 0 1px; margin: 0; cursor: pointer; font: inherit;
  color: var(--color-accent); font-weight: 600; text-decoration: underline dotted; }
.zc-answer button.zc-cite { font-size: 0.85em; vertical-align: super; line-height: 1; }
.zc-answer button.zc-cite.active, .zc-answer button.zc-src.active {
  background: var(--color-accent); color: white; border-radius: 3px; text-decoration: none; }
.zc-sources { margin-top: 8px; font-size: 0.92em; color: var(--body-text-color-subdued); }
.zc-sources ol { list-style: none; padding-left: 0; margin: 2px 0 0 0; }
.zc-sources li { margin: 2px 0; }
.zc-note { color: var(--body-text-color-subdued); font-size: 0.9em; }
.zc-cards .zc-card { display: none; margin-top: 8px; }
.zc-cards .zc-card.open { display: block; }
.zc-actions { margin-top: 8px; display: flex; gap: 8px; }
.zc-actions button { font-size: 0.85em; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 1px 10px; background: var(--background-fill-primary); color: var(--body-text-color); cursor: pointer; }
.zc-plain { display: none; }
.zc-suggestions { margin-top: 8px; display: flex; flex-wrap: wrap; gap: 6px; align-items: center;
                  font-size: 0.9em; color: var(--body-text-color-subdued); }
.zc-suggestions button { border: 1px solid var(--color-accent); color: var(--color-accent); border-radius: 12px;
  padding: 1px 10px; background: none; cursor: pointer; font-size: 0.95em; }
details.calc { margin-top: 8px; border-left: 3px solid #9db4d6; padding-left: 8px; }
details.calc summary { cursor: pointer; font-weight: 600; }

/* the panel beside the chat */
#side { position: sticky; top: 8px; align-self: flex-start; }
#clause-panel .clause-card { max-height: 70vh; overflow-y: auto; }
#history .wrap { flex-direction: column; align-items: stretch; max-height: 260px; overflow-y: auto; flex-wrap: nowrap; }

.clause-tree .wrap { flex-direction: column; align-items: stretch; max-height: 460px; overflow-y: auto;
                     flex-wrap: nowrap; }
.clause-tree label { white-space: pre; }
#feedback-box { border: 1px dashed var(--border-color-primary); border-radius: 8px; padding: 6px; }

/* compare and documents tables: a table on a desktop, one card per row on a phone */
.zc-table { width: 100%; border-collapse: collapse; font-size: 0.95em; border: none !important; }
.zc-table th, .zc-table td { border: none !important; border-bottom: 1px solid var(--border-color-primary) !important;
                             padding: 6px 8px;
                             text-align: left; vertical-align: top; line-height: 1.6; }
.zc-table tr { border: none !important; }
.zc-table th { background: var(--background-fill-secondary); font-weight: 600; }
.zc-table td.c-region, .zc-table td.c-clause, .zc-table td.c-date, .zc-table td.c-count,
.zc-table td.c-number { white-space: nowrap; }
.zc-table td.c-rule { min-width: 16em; }
/* 我的清单: totals stay short and their header on one line; the verbatim quote gets the room */
.zc-table th.c-total { white-space: nowrap; }
.zc-table td.c-total { min-width: 5em; max-width: 11em; }
.zc-table td.c-quote { min-width: 20em; }

@media (max-width: 900px) {
  #clause-panel { display: none; }       /* sources open under the answer instead */
  #side { position: static; }
  .zc-table thead { display: none; }
  .zc-table, .zc-table tbody, .zc-table tr, .zc-table td { display: block; width: auto; }
  .zc-table tr { border: 1px solid var(--border-color-primary) !important; border-radius: 8px; margin: 8px 0; padding: 4px 0; }
  .zc-table td { border: none !important; padding: 2px 10px; white-space: normal !important; min-width: 0 !important; }
  .zc-table td::before { content: attr(data-label) "："; color: var(--body-text-color-subdued); }
  .zc-table td.empty { display: none; }
  .zc-table td.c-title, .zc-table td.c-region:first-child { font-weight: 600; }
  .zc-table td.c-title::before, .zc-table td.c-region:first-child::before { content: none; }
  .zc-table td.c-doc:first-child { font-weight: 600; }       /* a 我的清单 card starts with its document */
  .zc-table td.c-doc:first-child::before { content: none; }
}
@media (max-width: 480px) {
  #chatbot .message-row { margin: 10px 2px !important; width: calc(100% - 4px) !important;
                          max-width: calc(100% - 4px) !important; }
  #chatbot .message-row .message { max-width: 100% !important; width: 100% !important; }
  .zc-card .clause-card { padding: 8px; }
}
"""

JS = r"""
<style>
/* outside Gradio's .contain, so not reachable from the `css` it scopes */
@media (max-width: 480px) { .gradio-container .main.fillable { padding-left: 8px !important; padding-right: 8px !important; } }
</style>
<script>
(() => {
  if (window.__zhengce) return; window.__zhengce = true;
  const narrow = () => window.matchMedia('(max-width: 900px)').matches;

  function openSource(answer, n) {
    const card = answer.querySelector('.zc-card.zc-n' + n);
    if (!card) return;
    document.querySelectorAll('.zc-cite.active, .zc-src.active').forEach(b => b.classList.remove('active'));
    answer.querySelectorAll('.zc-cite.zc-n' + n + ', .zc-src.zc-n' + n).forEach(b => b.classList.add('active'));
    const panel = document.getElementById('zc-panel');
    if (panel && !narrow()) {
      document.querySelectorAll('.zc-card.open').forEach(c => c.classList.remove('open'));
      panel.innerHTML = card.innerHTML;
      panel.dataset.n = n;
      const r = panel.getBoundingClientRect();
      if (r.top < 0 || r.top > window.innerHeight - 60) panel.scrollIntoView({block: 'start'});
      const m = panel.querySelector('mark');
      const box = panel.querySelector('.clause-card');
      if (m && box) box.scrollTop = Math.max(0, m.offsetTop - box.offsetTop - 40);
    } else {
      const open = card.classList.contains('open');
      answer.querySelectorAll('.zc-card.open').forEach(c => c.classList.remove('open'));
      if (!open) {
        card.classList.add('open');
        const m = card.querySelector('mark');
        setTimeout(() => {  // the clause's heading if the first highlight fits below it, else that highlight
          const box = scrollBox(card);
          const fits = !m || !box || m.getBoundingClientRect().top - card.getBoundingClientRect().top < 0.7 * box.clientHeight;
          scrollChatTo(fits ? card : m, fits ? 0 : 0.3);
        }, 30);
      }
    }
  }

  function flash(btn, text) {
    const old = btn.dataset.label || btn.textContent; btn.dataset.label = old;
    btn.textContent = text; setTimeout(() => { btn.textContent = old; }, 1500);
  }

  async function copy(text, btn) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {  // plain http on another host: no clipboard API
      const ta = document.createElement('textarea'); ta.value = text; document.body.appendChild(ta);
      ta.select(); try { document.execCommand('copy'); } finally { ta.remove(); }
    }
    window.__zhengce_copied = text;
    flash(btn, '已复制');
  }

  function download(text, name) {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], {type: 'text/markdown;charset=utf-8'}));
    a.download = name; document.body.appendChild(a); a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  document.addEventListener('click', (ev) => {
    const b = ev.target.closest && ev.target.closest('.zc-cite, .zc-src, .zc-copy, .zc-export, .zc-suggest');
    if (!b) return;
    if (b.classList.contains('zc-suggest')) {  // ask the suggested follow-up
      ev.preventDefault(); ev.stopPropagation();
      const ta = document.querySelector('#question textarea'), send = document.getElementById('send');
      if (!ta || !send) return;
      ta.value = b.textContent; ta.dispatchEvent(new Event('input', {bubbles: true}));
      setTimeout(() => send.click(), 50);
      return;
    }
    const answer = b.closest('.zc-answer');
    if (!answer) return;
    ev.preventDefault(); ev.stopPropagation();
    const plain = (cls) => { const el = answer.querySelector(cls);
                             return el ? decodeURIComponent(el.textContent.trim()) : null; };
    if (b.classList.contains('zc-copy')) { const t = plain('.zc-plain-text'); if (t) copy(t, b); return; }
    if (b.classList.contains('zc-export')) {
      const md = plain('.zc-plain-md');
      if (md) { download(md, '政策问答_回答.md'); flash(b, '已导出'); }
      return;
    }
    const m = /zc-n(\d+)/.exec(b.className);
    if (m) openSource(answer, m[1]);
  }, true);

  function scrollBox(el) {  // the chat's scrolling container
    let box = el.parentElement;
    while (box && box !== document.body) {
      const oy = getComputedStyle(box).overflowY;
      if ((oy === 'auto' || oy === 'scroll') && box.scrollHeight > box.clientHeight) return box;
      box = box.parentElement;
    }
    return null;
  }

  function scrollChatTo(el, frac) {  // scroll the chat (not the page): el's top at `frac` of the chat's height
    const box = scrollBox(el);
    if (!box) return;
    box.scrollTop += el.getBoundingClientRect().top - box.getBoundingClientRect().top - 8 - frac * box.clientHeight;
  }
  const showStart = (el) => scrollChatTo(el.closest('.message') || el, 0);

  // Show the start of a new answer (not its end) and translate Gradio's English toasts.
  const TOASTS = [
    [/File\(s\) exceed the maximum allowed size/i, '文件太大（上限 5 MB）。'],
    [/Invalid file type/i, '不支持的文件类型（支持 .txt .md .html .docx .pdf）。'],
    [/Connection errored out|Could not connect|Failed to fetch/i, '与服务器的连接中断，请刷新页面后重试。'],
    [/^\s*Error\s*$/, '错误'],
  ];
  let seen = 0;
  new MutationObserver(() => {
    const answers = document.querySelectorAll('#chatbot .zc-answer');
    if (answers.length > seen) {
      const last = answers[answers.length - 1];
      if (seen > 0) setTimeout(() => showStart(last), 60);
      seen = answers.length;
    } else if (answers.length < seen) { seen = answers.length; }
    document.querySelectorAll('.toast-body *:not(:has(*))').forEach(el => {
      for (const [re, zh] of TOASTS) if (re.test(el.textContent)) { el.textContent = zh; break; }
    });
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
</script>
"""

PANEL_HINT = "点击回答中的 [1] [2] 等编号，这里显示该条款全文，引文高亮。"


def panel_html(hint: str = PANEL_HINT, nonce: int = 0) -> str:
    """The side panel; `nonce` makes a reset differ from the last value so the page re-renders it."""
    from web.render import esc

    return (f"<div class='zc-panel-h'>引用原文</div><div id='zc-panel' data-reset='{nonce}'>"
            f"<div class='clause-card hint'>{esc(hint)}</div></div>")
