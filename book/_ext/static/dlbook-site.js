/* The book's small fixes to the theme's behaviour (loaded on every page).
 *
 * 1. Sidebar buttons. pydata-sphinx-theme 0.17 and sphinx-book-theme 1.3 attach their
 *    handlers to the first ".primary-toggle" / ".secondary-toggle" of the page, which is a
 *    copy hidden in the header; the buttons a reader sees (the menu button and the contents
 *    button of the article header) then do nothing. Each visible button forwards its click to
 *    the one that has the handlers (pydata-sphinx-theme #2451, sphinx-book-theme #988).
 * 2. Figures. A figure of a code cell's output opens full size when tapped, so that a reader
 *    on a phone can read its tick labels.
 */
(function () {
  "use strict";

  function forwardToggles(selector) {
    var buttons = document.querySelectorAll(selector);
    var handled = buttons[0];
    for (var i = 1; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function (event) {
        event.preventDefault();
        event.stopImmediatePropagation();
        handled.click();
      }, true);
    }
  }

  function linkFigures() {
    var images = document.querySelectorAll(".cell_output img, .output img");
    images.forEach(function (img) {
      if (img.closest("a") || img.closest(".dlbook-slider")) return;
      var link = document.createElement("a");
      link.href = img.getAttribute("src");
      link.className = "dlbook-figure-link";
      link.title = "Open the figure full size";
      img.parentNode.insertBefore(link, img);
      link.appendChild(img);
    });
  }

  function init() {
    forwardToggles(".primary-toggle");
    forwardToggles(".secondary-toggle");
    linkFigures();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
