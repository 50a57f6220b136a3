// The API page (api.html): a small reader of Xeno's own OpenAPI document: no third-party script, nothing from a CDN, and
// in a file of its own because the Content-Security-Policy runs no inline script. Everything it shows comes from the
// document, so the page cannot drift from what the app declares (OpenApiDocumentTests checks the declarations).
(function () {
  "use strict";
  var root = document.getElementById("operations");
  var doc;

  // A DOM element with attributes and children (strings become text, never HTML).
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  // A path that may break after each "/" on a narrow screen.
  function pathCode(path) {
    var code = el("code", { "class": "path" });
    path.split("/").forEach(function (part, i) {
      if (i > 0) { code.appendChild(document.createTextNode("/")); code.appendChild(el("wbr")); }
      code.appendChild(document.createTextNode(part));
    });
    return code;
  }

  // Backticks in descriptions mark code, as in Markdown; nothing else is interpreted.
  function prose(text) {
    var span = el("span");
    String(text || "").split("`").forEach(function (part, i) {
      if (part) span.appendChild(i % 2 ? el("code", {}, [part]) : document.createTextNode(part));
    });
    return span;
  }

  function refName(ref) { return ref.substring(ref.lastIndexOf("/") + 1); }
  function resolve(schema) { return schema && schema.$ref ? (doc.components.schemas[refName(schema.$ref)] || {}) : schema || {}; }

  // What a schema is, in words: its type (with format, items, enum), whether it may be null, and the object schema to
  // list fields from (resolved through $ref), if any.
  function describe(schema) {
    schema = schema || {};
    var variants = schema.oneOf || schema.anyOf;
    if (variants) {
      var real = variants.filter(function (v) { return v.type !== "null"; });
      var nullable = real.length < variants.length;
      if (real.length === 1) {
        var one = describe(real[0]);
        return { label: one.label, nullable: nullable || one.nullable, fields: one.fields, ref: one.ref };
      }
      return { label: real.map(function (v) { return describe(v).label; }).join(" or "), nullable: nullable };
    }
    if (schema.$ref) {
      var name = refName(schema.$ref), target = resolve(schema);
      return { label: name, nullable: false, fields: target.properties ? target : null, ref: name };
    }
    var types = [].concat(schema.type || []);
    var isNull = types.indexOf("null") >= 0;
    types = types.filter(function (t) { return t !== "null"; });
    if (types[0] === "array") {
      var item = describe(schema.items);
      return { label: "array of " + item.label, nullable: isNull, fields: item.fields, ref: item.ref };
    }
    if (types[0] === "object" && schema.additionalProperties && typeof schema.additionalProperties === "object") {
      var value = describe(schema.additionalProperties);
      return { label: "map of " + value.label, nullable: isNull, fields: value.fields, ref: value.ref };
    }
    var label = types.join(" or ") || (schema.properties ? "object" : "any");
    if (schema.format) label += " (" + schema.format + ")";
    if (schema["enum"]) label += ": one of " + schema["enum"].join(", ");
    return { label: label, nullable: isNull, fields: schema.properties ? schema : null };
  }

  // The fields of an object schema as a nested list; a schema already being listed further up is named, not repeated.
  function fieldList(schema, seen, sent) {
    var list = el("ul", { "class": "fields" });
    var required = schema.required || [];
    Object.keys(schema.properties || {}).forEach(function (name) {
      var property = schema.properties[name], type = describe(property);
      var notes = [type.label];
      if (required.indexOf(name) >= 0) notes.push(sent ? "required" : "always present");
      if (type.nullable) notes.push("may be null");
      var item = el("li", {}, [el("code", { "class": "field" }, [name]), " ", el("span", { "class": "type" }, [notes.join(", ")])]);
      var text = property.description || resolve(property).description;
      if (text) item.appendChild(el("span", { "class": "field-text" }, [prose(text)]));
      if (type.fields && !(type.ref && seen.indexOf(type.ref) >= 0))
        item.appendChild(fieldList(type.fields, type.ref ? seen.concat([type.ref]) : seen, sent));
      list.appendChild(item);
    });
    return list;
  }

  // A body's schema: its name or type, then its fields (sent: a request's body, whose required fields the client must give).
  function schemaBlock(schema, sent) {
    var type = describe(schema);
    var block = el("div", { "class": "schema" }, [el("p", {}, ["Schema: ", el("code", {}, [type.label])])]);
    if (type.fields) block.appendChild(fieldList(type.fields, type.ref ? [type.ref] : [], sent));
    return block;
  }

  function parameterTable(op) {
    var head = el("tr", {}, [
      el("th", { scope: "col" }, ["Name"]), el("th", { scope: "col", "class": "detail" }, ["In"]),
      el("th", { scope: "col", "class": "detail" }, ["Required"]), el("th", { scope: "col", "class": "detail" }, ["Type"]),
      el("th", { scope: "col" }, ["Description"])]);
    var body = el("tbody");
    op.parameters.forEach(function (p) {
      var type = describe(p.schema).label, required = p.required ? "yes" : "no";
      body.appendChild(el("tr", {}, [
        // On a narrow screen the three detail columns fold into the name's cell (site.css).
        el("th", { scope: "row" }, [el("code", {}, [p.name]),
          el("span", { "class": "meta" }, [p["in"] + ", " + type + (p.required ? ", required" : ", optional")])]),
        el("td", { "class": "detail" }, [p["in"]]), el("td", { "class": "detail" }, [required]),
        el("td", { "class": "detail" }, [type]), el("td", {}, [prose(p.description)])]));
    });
    return el("table", { "class": "api-table parameters" }, [el("thead", {}, [head]), body]);
  }

  function responseTable(op) {
    var body = el("tbody");
    Object.keys(op.responses || {}).sort().forEach(function (status) {
      var response = op.responses[status], types = Object.keys(response.content || {});
      var content = types.length ? types.map(function (t) {
        var code = el("code", {}, [t]);
        return t === "application/problem+json" ? el("a", { href: "#errors" }, [code]) : code;
      }) : [el("span", { "class": "muted" }, ["no body"])];
      var cell = el("td", { "class": "content-types detail" }), meta = el("span", { "class": "meta" });
      content.forEach(function (c, i) {
        if (i) { cell.appendChild(document.createTextNode(" ")); meta.appendChild(document.createTextNode(" ")); }
        cell.appendChild(c);
        meta.appendChild(c.cloneNode(true));
      });
      // On a narrow screen the content column folds into the description's cell (site.css).
      body.appendChild(el("tr", {}, [
        el("th", { scope: "row", "class": "status" }, [status]),
        el("td", {}, [prose(response.description), meta]), cell]));
    });
    var head = el("tr", {}, [el("th", { scope: "col" }, ["Status"]), el("th", { scope: "col" }, ["When"]),
      el("th", { scope: "col", "class": "detail" }, ["Content"])]);
    return el("table", { "class": "api-table responses" }, [el("thead", {}, [head]), body]);
  }

  // The bodies of the successes, each schema once (201 and 200 often share one).
  function responseBodies(op, id) {
    var shown = {}, blocks = [];
    Object.keys(op.responses || {}).sort().forEach(function (status) {
      if (status.charAt(0) !== "2") return;
      var content = op.responses[status].content || {}, types = Object.keys(content);
      if (!types.length || !content[types[0]].schema) return;
      var key = JSON.stringify(content[types[0]].schema);
      if (shown[key]) { shown[key].statuses.push(status); return; }
      shown[key] = { statuses: [status], types: types, schema: content[types[0]].schema };
      blocks.push(shown[key]);
    });
    return blocks.map(function (b, i) {
      var heading = el("h5", { id: id + "-body-" + i }, ["Body of " + b.statuses.join(" and ") + " (" + b.types.join(", ") + ")"]);
      var block = schemaBlock(b.schema);
      return el("section", { "aria-labelledby": id + "-body-" + i }, [heading, block]);
    });
  }

  function operationSection(path, method, op, needsToken) {
    var id = "op-" + (op.operationId || (method + path).replace(/[^A-Za-z0-9]+/g, "-"));
    var section = el("section", { "class": "card operation", id: id, "aria-labelledby": id + "-title" });
    section.appendChild(el("h3", { id: id + "-title" }, [el("span", { "class": "method" }, [method.toUpperCase()]), " ", pathCode(path)]));
    if (op.summary) section.appendChild(el("p", { "class": "summary" }, [prose(op.summary)]));
    if (op.description) section.appendChild(el("p", {}, [prose(op.description)]));
    section.appendChild(el("p", { "class": "auth" }, needsToken
      ? [el("span", { "class": "badge" }, ["Bearer token"]), " Needs ", el("code", {}, ["Authorization: Bearer <token>"]), "; without a valid one, 401."]
      : [el("span", { "class": "badge" }, ["No token"]), " Open to anyone: this call is how a client gets a token."]));
    if (op.operationId) section.appendChild(el("p", { "class": "muted operation-id" }, ["Operation id: ", el("code", {}, [op.operationId])]));

    if ((op.parameters || []).length) {
      section.appendChild(el("h4", {}, ["Parameters"]));
      section.appendChild(parameterTable(op));
    }
    if (op.requestBody) {
      section.appendChild(el("h4", {}, ["Request body"]));
      var types = Object.keys(op.requestBody.content || {});
      section.appendChild(el("p", {}, [(op.requestBody.required ? "Required" : "Optional") + ", as ",
        el("code", {}, [types.join(", ")]), "."]));
      if (types.length && op.requestBody.content[types[0]].schema) section.appendChild(schemaBlock(op.requestBody.content[types[0]].schema, true));
    }
    section.appendChild(el("h4", {}, ["Responses"]));
    section.appendChild(responseTable(op));
    responseBodies(op, id).forEach(function (b) { section.appendChild(b); });
    return { id: id, node: section };
  }

  function render() {
    root.textContent = "";
    var methods = ["get", "post", "put", "patch", "delete"];
    var scheme = ((doc.components || {}).securitySchemes || {}).bearer;
    var byTag = {}, order = (doc.tags || []).map(function (t) { return t.name; });
    Object.keys(doc.paths).forEach(function (path) {
      methods.forEach(function (method) {
        var op = doc.paths[path][method];
        if (!op) return;
        var tag = (op.tags || ["Other"])[0];
        if (order.indexOf(tag) < 0) order.push(tag);
        (byTag[tag] = byTag[tag] || []).push({ path: path, method: method, op: op });
      });
    });

    // How to authenticate, and what every error looks like: said once here, linked from each call.
    var intro = el("section", { "class": "card", id: "authentication", "aria-labelledby": "authentication-title" }, [
      el("h2", { id: "authentication-title" }, ["Authentication"]),
      el("p", {}, scheme
        ? ["Send ", el("code", {}, ["Authorization: Bearer <token>"]), " (", scheme.bearerFormat || "token", "). ", prose(scheme.description)]
        : ["Send the token of register or login in the Authorization header."])]);
    root.appendChild(intro);
    var problem = (doc.components.schemas || {}).ProblemDetails;
    var errors = el("section", { "class": "card", id: "errors", "aria-labelledby": "errors-title" }, [
      el("h2", { id: "errors-title" }, ["Errors"]),
      el("p", {}, ["Every error is ", el("code", {}, ["application/problem+json"]),
        " (RFC 9457); its title says what went wrong in words a person can act on. Each call lists its own statuses."])]);
    if (problem) errors.appendChild(fieldList(problem, ["ProblemDetails"]));
    root.appendChild(errors);

    var contents = el("ul", { "class": "contents" });
    root.appendChild(el("nav", { "class": "card", "aria-labelledby": "contents-title" }, [el("h2", { id: "contents-title" }, ["Calls"]), contents]));

    order.forEach(function (tag) {
      var ops = byTag[tag];
      if (!ops) return;
      var tagId = "tag-" + tag.replace(/[^A-Za-z0-9]+/g, "-");
      var info = (doc.tags || []).filter(function (t) { return t.name === tag; })[0];
      var group = el("section", { "class": "tag", id: tagId, "aria-labelledby": tagId + "-title" }, [el("h2", { id: tagId + "-title" }, [tag])]);
      if (info && info.description) group.appendChild(el("p", {}, [prose(info.description)]));
      var links = el("ul");
      ops.forEach(function (o) {
        var needsToken = (o.op.security || []).some(function (r) { return Object.prototype.hasOwnProperty.call(r, "bearer"); });
        var rendered = operationSection(o.path, o.method, o.op, needsToken);
        group.appendChild(rendered.node);
        links.appendChild(el("li", {}, [el("a", { href: "#" + rendered.id }, [o.method.toUpperCase() + " ", pathCode(o.path)])]));
      });
      contents.appendChild(el("li", {}, [el("a", { href: "#" + tagId }, [tag]), links]));
      root.appendChild(group);
    });
    // The page was drawn after load: a link to a call (api.html#op-GetSummary) finds its target now.
    if (location.hash && document.getElementById(location.hash.substring(1))) document.getElementById(location.hash.substring(1)).scrollIntoView();
  }

  fetch("/openapi/v1.json").then(function (r) {
    if (!r.ok) throw new Error(r.status);
    return r.json();
  }).then(function (json) {
    doc = json;
    doc.components = doc.components || {};
    render();
  }).catch(function () {
    var p = document.createElement("p");
    p.className = "error";
    p.textContent = "The API description could not be loaded.";
    root.replaceChildren(p);
  });
})();
