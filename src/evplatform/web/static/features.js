// Feature-model explorer: filter the tree by feature name or attribute value (the tree works without it).
"use strict";

function filterTree(query) {
  const tree = document.getElementById("feature-tree");
  const q = query.trim().toLowerCase();
  const items = Array.from(tree.querySelectorAll("li.feature")).reverse();  // children before parents
  let matches = 0;
  for (const li of items) {
    const own = q === "" || li.dataset.search.includes(q);
    const child = Array.from(li.querySelectorAll(":scope > details > .group > ul > li.feature, :scope > .group > ul > li.feature"))
      .some((c) => !c.hidden);
    li.hidden = !(own || child);
    li.classList.toggle("fm-match", q !== "" && own);
    if (q !== "" && own) matches += 1;
    const details = li.querySelector(":scope > details");
    if (details && q !== "" && child) details.open = true;
  }
  const status = document.getElementById("feature-search-status");
  status.textContent = q === "" ? "" : matches + " matching feature" + (matches === 1 ? "" : "s");
}

document.addEventListener("DOMContentLoaded", () => {
  const input = document.getElementById("feature-search");
  if (input) input.addEventListener("input", () => filterTree(input.value));
});
