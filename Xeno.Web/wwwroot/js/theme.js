// The theme toggle: light or dark chosen by the user sticks (localStorage); without a choice the
// system setting rules. Runs in <head> so the page never flashes the other theme.
(function () {
  // Controls that need script (the narrow screens' Menu button) show only when it runs: site.css reads this class.
  document.documentElement.classList.add("js");
  var saved = localStorage.getItem("xeno-theme");
  if (saved === "dark" || saved === "light") document.documentElement.dataset.theme = saved;
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("#theme-toggle")) return;
    var current = document.documentElement.dataset.theme ||
      (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
    var next = current === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("xeno-theme", next);
  });
})();
