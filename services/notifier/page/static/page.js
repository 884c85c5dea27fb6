// Progressive enhancement of the owner's page: the page works without this file.
// A form marked data-swap posts with fetch and replaces its own section with the answer;
// data-then names a section to refresh after it (the map, which is redrawn once the
// network has been scored again). No framework, no build step.
"use strict";

async function refresh(id, { waitFor } = {}) {
  const section = document.getElementById(id);
  if (!section) return;
  const before = section.dataset.networkAt || "";
  for (let attempt = 0; attempt < 90; attempt++) {
    const answer = await fetch(`/me/${id}`, {
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    });
    if (!answer.ok) return;
    const html = await answer.text();
    const fresh = new DOMParser().parseFromString(html, "text/html").getElementById(id);
    if (!fresh) return;
    if (!waitFor || (fresh.dataset.networkAt || "") !== before) {
      document.getElementById(id).replaceWith(fresh);
      return;
    }
    document.getElementById(id).setAttribute("aria-busy", "true");
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  document.getElementById(id)?.removeAttribute("aria-busy");
}

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-swap]");
  if (!form) return;
  event.preventDefault();
  const target = document.getElementById(form.dataset.swap);
  const body = new FormData(form, event.submitter);
  form.setAttribute("aria-busy", "true");
  for (const button of form.querySelectorAll("button")) button.disabled = true;
  try {
    // getAttribute: a control named "action" shadows form.action.
    const answer = await fetch(form.getAttribute("action"), {
      method: "POST",
      body,
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    });
    const html = await answer.text();
    const doc = new DOMParser().parseFromString(html, "text/html");
    const fresh = doc.getElementById(form.dataset.swap);
    if (fresh && target) {
      target.replaceWith(fresh);
    } else {
      // Not a section: the session ended or the server said no; show its page.
      document.open();
      document.write(html);
      document.close();
      return;
    }
    if (answer.ok && form.dataset.then) refresh(form.dataset.then, { waitFor: true });
  } catch (error) {
    form.removeAttribute("aria-busy");
    for (const button of form.querySelectorAll("button")) button.disabled = false;
    const note = document.createElement("p");
    note.className = "error";
    note.setAttribute("role", "alert");
    note.textContent = "Springboard could not be reached; try again.";
    form.after(note);
  }
});
