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

// Confirmations: <form data-confirm="Revoke this key?">, or on the button that submits it
// (a bulk bar has several). The text is an HTML attribute, read as text: never evaluated;
// "{n}" in a bulk form's is the number of rows checked. Runs in the capture phase, before htmx.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form");
  let text = event.submitter?.dataset.confirm || form?.dataset.confirm;
  if (text && form.hasAttribute("data-bulk-form")) text = text.replaceAll("{n}", String(checkedOf(form).length));
  if (text && !window.confirm(text)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// Bulk selection: row checkboxes belong to a form by its id (form="bulk-users"), a header
// checkbox data-select-all="bulk-users" checks the page's rows, and the bar says how many
// are checked ([data-selected-count]) and enables its buttons only then.
function checkedOf(form) {
  return form?.id ? [...document.querySelectorAll(`input[type=checkbox][form="${CSS.escape(form.id)}"]:checked`)] : [];
}

function refreshBulk(formId) {
  const form = document.getElementById(formId);
  if (!form) return;
  const rows = document.querySelectorAll(`input[type=checkbox][form="${CSS.escape(formId)}"]`);
  const count = checkedOf(form).length;
  form.querySelectorAll("[data-selected-count]").forEach((el) => { el.textContent = String(count); });
  form.querySelectorAll("button[data-bulk]").forEach((button) => { button.disabled = count === 0; });
  const all = document.querySelector(`[data-select-all="${CSS.escape(formId)}"]`);
  if (all) {
    all.checked = rows.length > 0 && count === rows.length;
    all.indeterminate = count > 0 && count < rows.length;
  }
}

document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (all) {
    document.querySelectorAll(`input[type=checkbox][form="${CSS.escape(all.dataset.selectAll)}"]`)
      .forEach((box) => { box.checked = all.checked; });
    refreshBulk(all.dataset.selectAll);
  } else if (event.target.matches?.("input[type=checkbox][form]")) {
    refreshBulk(event.target.getAttribute("form"));
  }
});
function refreshAllBulk() {
  document.querySelectorAll("form[data-bulk-form]").forEach((form) => refreshBulk(form.id));
}
document.addEventListener("DOMContentLoaded", refreshAllBulk);
document.addEventListener("htmx:afterSettle", refreshAllBulk);

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

// "/" focuses the sidebar's search box, unless the user is typing somewhere.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  const box = document.querySelector("[data-search]");
  if (!box) return;
  event.preventDefault();
  if (box.closest(".offcanvas-lg") && !box.checkVisibility()) {
    window.bootstrap?.Offcanvas.getOrCreateInstance(box.closest(".offcanvas-lg")).show();
  }
  box.focus();
});
