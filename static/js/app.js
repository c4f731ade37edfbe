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
