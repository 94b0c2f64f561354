// Shows and hides generated form fields as the user types, from the dictionary's conditions.
// The conditions arrive as JSON trees (see Condition.to_json); nothing here evaluates text.
(function () {
  "use strict";
  function valueOf(form, name) {
    var inputs = form.querySelectorAll('[data-field="' + name + '"]');
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
    if (first.type === "number") return Number(first.value);
    return first.value;
  }
  var compare = {
    Eq: function (a, b) { return a === b; }, NotEq: function (a, b) { return a !== b; },
    Lt: function (a, b) { return a < b; }, LtE: function (a, b) { return a <= b; },
    Gt: function (a, b) { return a > b; }, GtE: function (a, b) { return a >= b; },
    In: function (a, b) { return b.indexOf(a) >= 0; }, NotIn: function (a, b) { return b.indexOf(a) < 0; }
  };
  function evaluate(form, node) {
    switch (node[0]) {
      case "and": return node.slice(1).every(function (n) { return evaluate(form, n); });
      case "or": return node.slice(1).some(function (n) { return evaluate(form, n); });
      case "not": return !evaluate(form, node[1]);
      case "const": return node[1];
      case "list": return node[1].map(function (n) { return evaluate(form, n); });
      case "name": return valueOf(form, node[1].split(".").pop());
      case "cmp":
        var left = evaluate(form, node[2]), right = evaluate(form, node[3]);
        if (left === null || right === null) return false;
        return compare[node[1]](left, right);
    }
    return false;
  }
  function refresh(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (wrapper) {
      var shown = evaluate(form, JSON.parse(wrapper.getAttribute("data-show-if")));
      wrapper.hidden = !shown;
      wrapper.querySelectorAll("input, select, textarea").forEach(function (i) { i.disabled = !shown; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-conditions]").forEach(function (form) {
      form.addEventListener("input", function () { refresh(form); });
      form.addEventListener("change", function () { refresh(form); });
      refresh(form);
    });
  });
})();
