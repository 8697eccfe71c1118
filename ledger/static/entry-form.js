// Progressive enhancement for the new-entry form: the form works without this.
// Shows the counterparty only for a settlement, and the category only for the other kinds.
(function () {
  var kind = document.getElementById("kind");
  if (!kind) return;
  var counterparty = document.getElementById("counterparty_id");
  var category = document.getElementById("category_id");
  function sync() {
    var settlement = kind.value === "settlement";
    if (counterparty) counterparty.closest(".field").hidden = !settlement && !counterparty.value;
    if (category) category.closest(".field").hidden = settlement && !category.value;
  }
  kind.addEventListener("change", sync);
  sync();
})();
