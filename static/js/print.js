/* 打印: reveal the button (hidden without JavaScript) and print the page.
 * Without JavaScript the browser's own print command prints the same page. */
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-print]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function () { window.print(); });
  }
})();
