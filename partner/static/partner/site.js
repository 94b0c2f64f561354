// Behaviour every page shares, kept out of the pages so the Content Security Policy allows no inline script.
// A <select data-autosubmit> sends its form as soon as a choice is made (the form keeps a button for
// those without scripts).
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.submit();
  }
});
