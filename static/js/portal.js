/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";

  // A scrollable table region is focusable so keyboard users can scroll it;
  // when the table fits, that extra tab stop is only noise, so drop it.
  function updateScrollRegions() {
    document.querySelectorAll(".table-scroll").forEach(function (region) {
      if (region.scrollWidth > region.clientWidth + 1 ||
          region.scrollHeight > region.clientHeight + 1) {
        region.setAttribute("tabindex", "0");
      } else {
        region.removeAttribute("tabindex");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", updateScrollRegions);
  window.addEventListener("resize", function () {
    window.clearTimeout(updateScrollRegions.timer);
    updateScrollRegions.timer = window.setTimeout(updateScrollRegions, 150);
  });
})();
