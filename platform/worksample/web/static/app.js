// htmx sends the session's CSRF token on every request it makes.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) {
    event.detail.headers["X-CSRF-Token"] = meta.content;
  }
});
// Confirmation for forms that ask for it (data-confirm), without inline script.
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
// On a code page, a click on a line number (#L12) fills in the note form's line.
function fillNoteLine() {
  var found = /^#L(\d+)$/.exec(window.location.hash);
  var field = document.getElementById("note-line");
  if (found && field) {
    field.value = found[1];
  }
}
window.addEventListener("hashchange", fillNoteLine);
document.addEventListener("DOMContentLoaded", fillNoteLine);
