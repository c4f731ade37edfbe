// The dashboard's only script besides htmx and Bootstrap. No inline script anywhere: the
// Content-Security-Policy allows scripts from this origin only, so behaviour hangs off data
// attributes here.

// Copy buttons: <button data-copy="text">.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  navigator.clipboard?.writeText(button.dataset.copy).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

// Confirmations: <form data-confirm="Revoke this key?">. The text is an HTML attribute, read
// as text: never evaluated. Runs in the capture phase, before htmx sees the submit.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// One error path for every htmx request. A response htmx does not swap (401, 403, 404,
// 5xx) or no response at all is shown where the request came from, above its form or
// card, and nothing on the page is replaced: what the user typed stays. The message is the
// error page's own sentence ([data-error]); it is set as text, never as HTML.
const ERROR_CLASS = "htmx-error";

function placeOf(elt) {
  return elt.closest("form") || elt.closest(".card") || document.getElementById("main") || document.body;
}

function showError(elt, text) {
  const place = placeOf(elt);
  let box = place.querySelector(`:scope > .${ERROR_CLASS}`);
  if (!box) {
    box = document.createElement("div");
    box.className = `alert alert-danger ${ERROR_CLASS}`;
    box.setAttribute("role", "alert");
    place.prepend(box);
  }
  box.textContent = text;
}

function errorText(xhr) {
  const page = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
  const said = page.querySelector("[data-error]")?.textContent.trim();
  if (said) return said;
  if (xhr.status >= 500) return "Something went wrong on our side; nothing was saved. Try again in a moment.";
  return `The dashboard refused this (${xhr.status}); nothing was changed.`;
}

document.addEventListener("htmx:responseError", (event) => {
  showError(event.detail.elt, errorText(event.detail.xhr));
});
document.addEventListener("htmx:sendError", (event) => {
  showError(event.detail.elt, "The dashboard could not be reached; nothing was changed. Check the connection and try again.");
});
document.addEventListener("htmx:afterRequest", (event) => {
  if (event.detail.successful) placeOf(event.detail.elt).querySelector(`:scope > .${ERROR_CLASS}`)?.remove();
});

// Busy indicator: the page says it is waiting (a bar at the top, aria-busy on the target).
let pending = 0;
document.addEventListener("htmx:beforeRequest", (event) => {
  pending += 1;
  document.body.classList.add("is-busy");
  event.detail.target?.setAttribute("aria-busy", "true");
});
document.addEventListener("htmx:afterRequest", (event) => {
  pending = Math.max(0, pending - 1);
  if (!pending) document.body.classList.remove("is-busy");
  event.detail.target?.removeAttribute("aria-busy");
});

// Unsaved changes: <form data-unsaved> with a hidden input "dirty" (the server keeps it
// across its own re-renders, e.g. a rule added). Typing marks it; leaving while marked asks.
document.addEventListener("input", (event) => {
  const form = event.target.closest("form[data-unsaved]");
  if (!form || event.target.name === "comment" || event.target.name?.startsWith("sim_")) return;
  form.setAttribute("data-dirty", "");
  const flag = form.querySelector("input[name=dirty]");
  if (flag) flag.value = "1";
});
window.addEventListener("beforeunload", (event) => {
  if (document.querySelector("form[data-unsaved][data-dirty]")) event.preventDefault();
});

// Enter in a field of <form data-enter="op"> presses the form's button of that op (an
// input may name its own with data-enter), instead of the browser's first submit button.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || event.target.tagName !== "INPUT") return;
  const form = event.target.closest("form[data-enter]");
  if (!form) return;
  const op = event.target.dataset.enter || form.dataset.enter;
  const button = form.querySelector(`button[name=op][value="${CSS.escape(op)}"]`);
  event.preventDefault();
  button?.click();
});
