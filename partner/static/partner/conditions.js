// Shows and hides generated form fields as the user types, from the dictionary's conditions, and
// adds and removes the rows of repeating forms. The conditions arrive as JSON trees (see
// Condition.to_json); nothing here evaluates text.
(function () {
  "use strict";
  // A field is looked up in the row or form it belongs to first, then anywhere on the page
  // (a treatment row's condition names fields of the same row).
  function inputsFor(scope, form, name) {
    var selector = '[data-field="' + name + '"]';
    var inputs = scope ? scope.querySelectorAll(selector) : [];
    return inputs.length ? inputs : form.querySelectorAll(selector);
  }
  function valueOf(scope, form, name) {
    var inputs = inputsFor(scope, form, name);
    if (!inputs.length) return null;
    var first = inputs[0];
    if (first.type === "checkbox" && inputs.length > 1) {
      return Array.prototype.filter.call(inputs, function (i) { return i.checked; }).map(function (i) { return i.value; });
    }
    if (first.type === "checkbox") return first.checked;
    if (first.type === "radio") {
      var on = Array.prototype.find.call(inputs, function (i) { return i.checked; });
      return on ? on.value : null;
    }
    if (first.tagName === "SELECT" && first.multiple) {
      return Array.prototype.map.call(first.selectedOptions, function (o) { return o.value; });
    }
    if (first.value === "") return null;
    if (first.hasAttribute("data-number")) {
      var number = Number(first.value.trim().replace(",", "."));
      return isNaN(number) ? null : number;
    }
    return first.value;
  }
  var compare = {
    Eq: function (a, b) { return a === b; }, NotEq: function (a, b) { return a !== b; },
    Lt: function (a, b) { return a < b; }, LtE: function (a, b) { return a <= b; },
    Gt: function (a, b) { return a > b; }, GtE: function (a, b) { return a >= b; },
    In: function (a, b) { return b.indexOf(a) >= 0; }, NotIn: function (a, b) { return b.indexOf(a) < 0; }
  };
  function evaluate(scope, form, node) {
    switch (node[0]) {
      case "and": return node.slice(1).every(function (n) { return evaluate(scope, form, n); });
      case "or": return node.slice(1).some(function (n) { return evaluate(scope, form, n); });
      case "not": return !evaluate(scope, form, node[1]);
      case "const": return node[1];
      case "list": return node[1].map(function (n) { return evaluate(scope, form, n); });
      case "name": return valueOf(scope, form, node[1].split(".").pop());
      case "cmp":
        var left = evaluate(scope, form, node[2]), right = evaluate(scope, form, node[3]);
        if (left === null || right === null) return false;
        return compare[node[1]](left, right);
    }
    return false;
  }
  function refresh(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (wrapper) {
      if (wrapper.closest("template")) return;
      var scope = wrapper.closest("[data-scope]");
      var shown = evaluate(scope, form, JSON.parse(wrapper.getAttribute("data-show-if")));
      wrapper.hidden = !shown;
      wrapper.querySelectorAll("input, select, textarea").forEach(function (i) { i.disabled = !shown; });
    });
    // A section heading goes with its fields: hidden when none of them is shown.
    form.querySelectorAll(".section").forEach(function (section) {
      if (section.closest("template")) return;
      var fields = section.querySelectorAll(":scope > .field");
      section.hidden = fields.length > 0 && Array.prototype.every.call(fields, function (f) { return f.hidden; });
    });
  }
  function renumber(group) {
    group.querySelectorAll(".rows > .row .row-title .n").forEach(function (n, i) { n.textContent = "#" + (i + 1); });
  }
  function addRow(group) {
    var template = group.querySelector("template");
    var key = "new" + Date.now().toString(36) + Math.floor(Math.random() * 1000);
    var html = template.innerHTML.replace(/__row__/g, key);
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.firstElementChild;
    group.querySelector(".rows").appendChild(row);
    renumber(group);
    var first = row.querySelector("select, input:not([type=hidden])");
    if (first) first.focus();
  }
  // A date input the browser cannot read (the year not typed yet) is sent empty, and the answer would
  // vanish: the form is not sent, and the message goes beside the date.
  function refuseIncompleteDates(form, event) {
    form.querySelectorAll("[data-incomplete]").forEach(function (message) { message.remove(); });
    var incomplete = Array.prototype.filter.call(form.querySelectorAll("input[type=date]"), function (input) {
      return !input.disabled && input.validity.badInput;
    });
    incomplete.forEach(function (input) {
      var message = document.createElement("div");
      message.className = "message error";
      message.setAttribute("role", "alert");
      message.setAttribute("data-incomplete", "");
      message.textContent = form.getAttribute("data-incomplete-date");
      input.insertAdjacentElement("afterend", message);
    });
    if (incomplete.length) {
      event.preventDefault();
      incomplete[0].focus();
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-conditions]").forEach(function (form) {
      form.addEventListener("submit", function (event) { refuseIncompleteDates(form, event); });
      form.addEventListener("input", function () { refresh(form); });
      form.addEventListener("change", function () { refresh(form); });
      form.addEventListener("click", function (event) {
        var button = event.target.closest("button");
        if (!button) return;
        var group = button.closest("[data-rows]");
        if (button.hasAttribute("data-add-row") && group) {
          addRow(group);
        } else if (button.hasAttribute("data-remove-row") && group) {
          button.closest(".row").remove();
          renumber(group);
        } else {
          return;
        }
        refresh(form);
      });
      refresh(form);
    });
  });
  // The tumour module arrives from the server when the codes change: apply its conditions too.
  document.addEventListener("htmx:afterSwap", function (event) {
    var form = event.target.closest ? event.target.closest("form[data-conditions]") : null;
    if (form) refresh(form);
  });
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("form[data-conditions]").forEach(refresh);
  });
})();
