// The Menu button of narrow screens: opens and closes the main menu (site.css hides it behind the button).
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest(".menu-toggle");
  if (!button) return;
  var open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  button.closest(".topbar").classList.toggle("open", open);
});
