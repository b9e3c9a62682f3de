// The reply box's live counter. The counting is the gateway's own (gateway.gsm7, asked over
// POST), so the browser never holds a second copy of the GSM-7 rules.
(function () {
  var box = document.querySelector("textarea[data-count-url]");
  if (!box) return;
  var count = document.getElementById("reply-count");
  var warn = document.getElementById("reply-warn");
  var sent = document.getElementById("reply-sent");
  var csrf = box.form.querySelector("input[name=csrf_token]").value;
  var timer = null, asked = 0;
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function update() {
    var mine = ++asked;
    fetch(box.dataset.countUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify({text: box.value})
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (d) {
      if (!d || mine !== asked) return;  // an older answer arriving late
      count.textContent = plural(d.chars, "character") + ", " + plural(d.segments, "SMS segment") +
        " (" + d.encoding + "). The reporter gets " + plural(d.sent_segments, "SMS") +
        " (" + d.sent_chars + " characters with the tracking number and how to answer).";
      if (d.unfit.length) {
        warn.hidden = false;
        warn.textContent = "Forces UCS-2 (70 characters per SMS instead of 160): " + d.unfit.join(" ") +
          ". The gateway sends a plain look-alike instead.";
      } else {
        warn.hidden = true;
        warn.textContent = "";
      }
      sent.textContent = d.sent;
    });
  }
  box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 120); });
  update();
})();
