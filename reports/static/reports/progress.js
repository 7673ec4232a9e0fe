// Progress of a report: polls the status endpoint and updates the page without
// reloading it. Without JavaScript the page reloads itself (HTTP Refresh header).
(function () {
  "use strict";
  var box = document.getElementById("report-progress");
  if (!box || !window.fetch) { return; }
  var state = box.getAttribute("data-state");
  if (state === "done" || state === "failed") { return; }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("progress");
  var label = box.querySelector(".report-state");
  var download = box.querySelector(".report-download");
  var refresh = box.querySelector(".report-refresh");

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        bar.value = data.progress;
        bar.textContent = data.progress + " %";
        label.textContent = data.state === "running"
          ? data.state_display + " · " + data.progress + " %"
          : data.state_display;
        if (data.state === "failed") {
          // The reloaded page names the reason and offers "Try again".
          window.location.reload();
          return;
        }
        if (data.state === "done" && data.download_url) {
          download.querySelector("a").href = data.download_url;
          download.hidden = false;
        }
        if (data.state === "done" || data.state === "failed") {
          if (refresh) { refresh.hidden = true; }
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
}());
