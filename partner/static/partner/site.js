// Behaviour every page shares, kept out of the pages so the Content Security Policy allows no inline script.
// A <select data-autosubmit> sends its form as soon as a choice is made (the form keeps a button for
// those without scripts).
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.submit();
  }
});

// Data entry (a <form data-entry>): after a failed save the error summary takes the focus, and each of
// its links moves the focus to its field; Enter in a one-line input does not send the whole form (only its
// buttons do); leaving the page with unsaved changes asks first.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-error-summary]");
  if (summary instanceof HTMLElement) summary.focus();
});

document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("[data-error-summary] a[href^='#']") : null;
  if (!link) return;
  const field = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
  if (!(field instanceof HTMLElement)) return;
  event.preventDefault();
  // The label (or the group's legend) comes into view with the field, as the reader needs both.
  const around = field.closest(".field, fieldset, p") || field;
  around.scrollIntoView({ block: "start" });
  field.focus({ preventScroll: true });
});

const SUBMITTING_TYPES = new Set([
  "text", "number", "date", "email", "tel", "url", "search", "password", "month", "week", "time",
  "datetime-local",
]);

document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (event.key !== "Enter" || event.isComposing || !(target instanceof HTMLInputElement)) return;
  if (target.form && target.form.hasAttribute("data-entry") && SUBMITTING_TYPES.has(target.type)) {
    event.preventDefault();
  }
});

function markDirty(event) {
  const form = event.target instanceof Element ? event.target.closest("form[data-entry]") : null;
  if (form instanceof HTMLFormElement) form.dataset.dirty = "true";
}
document.addEventListener("input", markDirty);
document.addEventListener("change", markDirty);
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-add-row], [data-remove-row]")) markDirty(event);
});
// Bubbling, so that a submit another script refuses (an incomplete date) keeps the page guarded.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.hasAttribute("data-entry") && !event.defaultPrevented) {
    form.dataset.dirty = "false";
  }
});
window.addEventListener("beforeunload", (event) => {
  if (document.querySelector("form[data-entry][data-dirty='true']")) {
    event.preventDefault();
    event.returnValue = "";
  }
});

// The header's menu folds behind its button on narrow screens (partner.css): closed on arrival, opened and
// closed by the button, closed again by Escape with the focus back on the button. Without this script the
// button stays hidden and the menu open.
const header = document.querySelector("[data-menu]");
const menuToggle = header ? header.querySelector("[data-menu-toggle]") : null;
if (header && menuToggle instanceof HTMLButtonElement) {
  const setOpen = (open) => {
    menuToggle.setAttribute("aria-expanded", String(open));
    header.classList.toggle("closed", !open);
  };
  setOpen(false);
  menuToggle.hidden = false;
  menuToggle.addEventListener("click", () => setOpen(menuToggle.getAttribute("aria-expanded") !== "true"));
  header.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menuToggle.getAttribute("aria-expanded") === "true" && menuToggle.offsetParent) {
      setOpen(false);
      menuToggle.focus();
    }
  });
}
