/* wholeself directory filter: narrows the cards on index.html live.
 *
 * No dependencies. Each card carries its team, strengths, mentor types,
 * formats and modes as data attributes, so filtering works even from
 * file://, where fetch() cannot read search.json; when search.json does
 * load, free-text search also matches learning goals and every strength.
 * The filter state lives in the query string (?q=rust&team=platform&
 * offers=coach) so a filtered view can be shared. Without JavaScript the
 * form stays hidden and the "Browse" links lead to the static pages. */
(function () {
  "use strict";
  var form = document.querySelector("form.filter");
  var list = document.getElementById("people");
  var status = document.getElementById("filter-status");
  if (!form || !list || !status) return;

  var FACETS = ["team", "strength", "offers", "seeks", "format", "mode"];
  /* Which data attribute of a card each facet looks in. */
  var ATTR = {team: "team", strength: "strengths", offers: "offers",
              seeks: "seeks", format: "formats", mode: "modes"};
  var cards = Array.prototype.slice.call(list.querySelectorAll("li.card"));
  var extra = {}; /* slug -> more searchable text, from search.json */

  function fold(s) {
    s = String(s || "").toLowerCase();
    return s.normalize ? s.normalize("NFD").replace(/[\u0300-\u036f]/g, "") : s;
  }

  function words(card, attr) {
    return (card.getAttribute("data-" + attr) || "").split(" ");
  }

  function textOf(card) {
    if (!card._text)
      card._text = fold(card.textContent);
    return card._text + " " + (extra[card.getAttribute("data-slug")] || "");
  }

  function state() {
    var s = {q: form.elements.q.value.trim()};
    FACETS.forEach(function (f) { s[f] = form.elements[f].value; });
    return s;
  }

  function matches(card, s) {
    var terms = fold(s.q).split(/\s+/).filter(Boolean);
    var text = textOf(card);
    for (var i = 0; i < terms.length; i++)
      if (text.indexOf(terms[i]) < 0) return false;
    return FACETS.every(function (f) {
      return !s[f] || words(card, ATTR[f]).indexOf(s[f]) >= 0;
    });
  }

  /* Keeps the URL in step with the form, without adding history entries
   * for every keystroke. */
  function writeUrl(s) {
    var params = new URLSearchParams();
    if (s.q) params.set("q", s.q);
    FACETS.forEach(function (f) { if (s[f]) params.set(f, s[f]); });
    var query = params.toString();
    var url = location.pathname + (query ? "?" + query : "") + location.hash;
    try {
      history.replaceState(null, "", url);
    } catch (e) {
      /* Some browsers refuse replaceState on file://; the filter still works. */
    }
  }

  function apply() {
    var s = state(), shown = 0;
    cards.forEach(function (card) {
      var ok = matches(card, s);
      card.hidden = !ok;
      if (ok) shown++;
    });
    var filtered = s.q || FACETS.some(function (f) { return s[f]; });
    status.textContent = filtered
      ? (shown === 0 ? "No one matches these filters."
         : "Showing " + shown + " of " + cards.length +
           (cards.length === 1 ? " person." : " people."))
      : "";
    writeUrl(s);
  }

  function readUrl() {
    var params = new URLSearchParams(location.search);
    form.elements.q.value = params.get("q") || "";
    FACETS.forEach(function (f) {
      var el = form.elements[f], v = params.get(f) || "";
      /* An unknown value (a renamed team, a stale link) selects nothing
       * rather than hiding everyone. */
      el.value = v;
      if (el.value !== v) el.value = "";
    });
  }

  function loadIndex() {
    if (!window.fetch || location.protocol === "file:") return;
    fetch(form.getAttribute("data-search"))
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (people) {
        people.forEach(function (p) {
          extra[p.slug] = fold([p.role, p.team].concat(p.strengths || [],
            p.learning || [], p.offers || [], p.seeks || []).join(" "));
        });
        apply();
      })
      .catch(function () { /* the data attributes are enough */ });
  }

  form.hidden = false;
  readUrl();
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
  form.addEventListener("reset", function () { setTimeout(apply, 0); });
  apply();
  loadIndex();
})();
