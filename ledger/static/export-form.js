// Progressive enhancement for the export form: the form works without this (the server refuses a field
// of another kind of period, at that field). Shows only the chosen period's inputs, and disables the
// others so a value typed there and left behind is not sent: what is downloaded is what is shown.
(function () {
  var form = document.querySelector("form.export-form");
  if (!form) return;
  var choices = form.querySelectorAll("input[name=period]");
  var fields = form.querySelectorAll(".field[data-period]");
  function chosen() {
    for (var i = 0; i < choices.length; i++) if (choices[i].checked) return choices[i].value;
    return "";
  }
  function sync() {
    var period = chosen();
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      // A field the server flagged stays in view until its period is chosen or it is cleared.
      var show = field.getAttribute("data-period") === period || field.classList.contains("has-error");
      field.hidden = !show;
      var inputs = field.querySelectorAll("input");
      for (var j = 0; j < inputs.length; j++) inputs[j].disabled = !show;
    }
  }
  for (var i = 0; i < choices.length; i++) choices[i].addEventListener("change", sync);
  sync();
})();
