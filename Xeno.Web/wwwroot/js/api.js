// The API page (api.html): a small reader of Xeno's own OpenAPI document: no third-party script, nothing from a CDN, and
// in a file of its own because the Content-Security-Policy runs no inline script.
fetch("/openapi/v1.json").then(function (r) { return r.json(); }).then(function (doc) {
  var root = document.getElementById("operations");
  root.textContent = "";
  Object.keys(doc.paths).sort().forEach(function (path) {
    Object.keys(doc.paths[path]).forEach(function (method) {
      var op = doc.paths[path][method];
      var section = document.createElement("section");
      section.className = "card";
      var title = document.createElement("h2");
      title.textContent = method.toUpperCase() + " " + path;
      section.appendChild(title);
      var params = (op.parameters || []).map(function (p) { return p.name + " (" + p.in + ")"; });
      if (params.length) {
        var p = document.createElement("p");
        p.textContent = "Parameters: " + params.join(", ");
        section.appendChild(p);
      }
      if (op.requestBody) {
        var b = document.createElement("p");
        b.textContent = "Body: JSON";
        section.appendChild(b);
      }
      var tags = document.createElement("p");
      tags.className = "muted";
      tags.textContent = (op.tags || []).join(", ");
      section.appendChild(tags);
      root.appendChild(section);
    });
  });
}).catch(function () {
  var root = document.getElementById("operations"), p = document.createElement("p");
  p.className = "error";
  p.textContent = "The API description could not be loaded.";
  root.replaceChildren(p);
});
