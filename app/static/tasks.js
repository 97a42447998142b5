// 排摸 checklist: show a question only when the earlier answer it depends on says so (the server
// checks the same conditions on save; without this script every question is shown).
(function () {
  var form = document.getElementById("answer");
  if (!form) return;
  function values(id) {
    var out = [];
    form.querySelectorAll('[name="q_' + id + '"]').forEach(function (el) {
      if ((el.type === "radio" || el.type === "checkbox") ? el.checked : el.value) out.push(el.value);
    });
    return out;
  }
  function refresh() {
    var shown = {};
    form.querySelectorAll(".question").forEach(function (div) {
      var dep = div.getAttribute("data-show-if");
      var ok = true;
      if (dep) {
        var want = div.getAttribute("data-show-values").split("|");
        ok = !!shown[dep] && values(dep).some(function (v) { return want.indexOf(v) >= 0; });
      }
      shown[div.getAttribute("data-q")] = ok;
      div.hidden = !ok;
    });
    var outcome = form.querySelector('[name="outcome"]:checked');
    document.getElementById("questions").hidden = outcome && outcome.value !== "answered";
  }
  form.addEventListener("change", refresh);
  refresh();
})();
