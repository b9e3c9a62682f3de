// The phone simulator: fetch the message list every second so replies appear as the workers
// send them (the page reads fine without it: reload to see new messages).
(function () {
  var list = document.getElementById("messages");
  if (!list) return;
  var last = list.innerHTML;
  function bottom() { list.scrollTop = list.scrollHeight; }
  function poll() {
    fetch(list.dataset.poll, {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (html !== null && html !== last) { last = html; list.innerHTML = html; bottom(); }
    }).catch(function () {}).then(function () { setTimeout(poll, 1000); });
  }
  bottom();
  setTimeout(poll, 1000);
})();
