/* The bag's scan page without a reload per scan (templates/admin/pickups/consolidationbag/scan.html).
 *
 * A keyboard-wedge scanner types a number and Enter in well under 0.1 s. Each Enter moves the
 * field's text to a queue and clears the field at once; the queue is sent in order, one request
 * at a time (everything queued meanwhile goes in the next request), to the bag's scan.json
 * endpoint, which normalises, scans and answers one result per number. Without this file the form
 * posts as before. Translated texts come from the form's data-text-* attributes.
 */
(function () {
  "use strict";

  var BATCH = 100;        // numbers per request at most
  var RETRIES = 3;        // a failed request is retried this many times before its lines say "scan again"

  var form = document.getElementById("scan-form");
  if (!form || !window.fetch) { return; }
  var box = document.getElementById("id_tracking_numbers");
  var scanBox = document.getElementById("scan-box");
  var queueStatus = document.getElementById("scan-queue");
  var logBody = document.querySelector("#scan-log tbody");
  var last = document.getElementById("scan-last");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var text = form.dataset;
  var canMarkReady = text.canMarkReady === "1";

  var queue = [];         // [{number, row}] waiting to be sent
  var sending = 0;        // numbers in the request under way
  var failures = 0;

  // ---- sound and colour -------------------------------------------------------------------
  var audio = null;
  function beep(frequency, seconds, wave) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.type = wave;
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + seconds);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start();
      oscillator.stop(audio.currentTime + seconds);
    } catch (error) { /* no sound on this machine: the colour still tells */ }
  }
  var flashTimer = null;
  function signal(refused) {
    if (refused) { beep(220, 0.35, "square"); } else { beep(1320, 0.09, "sine"); }
    scanBox.classList.remove("pc-flash-added", "pc-flash-refused");
    void scanBox.offsetWidth;  // restart the flash
    scanBox.classList.add(refused ? "pc-flash-refused" : "pc-flash-added");
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { scanBox.classList.remove("pc-flash-added", "pc-flash-refused"); }, 450);
  }

  // ---- the log ------------------------------------------------------------------------------
  function cell(content) {
    var td = document.createElement("td");
    if (content) { td.appendChild(content); }
    return td;
  }
  function code(number) {
    var element = document.createElement("code");
    element.textContent = number;
    return element;
  }
  function badge(tone, message) {
    var span = document.createElement("span");
    span.className = "pc-badge " + tone;
    span.textContent = message;
    return span;
  }
  function readyForm(number) {
    var rts = document.createElement("form");
    rts.method = "post";
    rts.action = text.readyUrl;
    rts.className = "pc-inline-form pc-rts-form";
    [["csrfmiddlewaretoken", csrf], ["tracking_no", number]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      rts.appendChild(input);
    });
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "button pc-rts-button";
    button.textContent = text.textMarkReady;
    rts.appendChild(button);
    return rts;
  }
  function logLine(entry) {
    var row = document.createElement("tr");
    row.className = "scan-result scan-latest scan-" + entry.outcome;
    row.dataset.outcome = entry.outcome;
    var result = cell(badge(entry.tone, entry.message));
    if (entry.outcome === "not_ready_to_ship" && canMarkReady) { result.appendChild(readyForm(entry.tracking_no)); }
    row.appendChild(cell(document.createTextNode(entry.at)));
    row.appendChild(cell(code(entry.tracking_no)));
    row.appendChild(result);
    return row;
  }
  function pendingLine(number) {
    var row = document.createElement("tr");
    row.className = "scan-pending";
    row.appendChild(cell(document.createTextNode("")));
    row.appendChild(cell(code(number)));
    row.appendChild(cell(document.createTextNode(text.textSending)));
    logBody.insertBefore(row, logBody.firstChild);
    return row;
  }
  function showResults(sent, results) {
    sent.forEach(function (item) { item.row.remove(); });
    Array.prototype.forEach.call(logBody.querySelectorAll("tr.scan-latest"), function (row) {
      row.classList.remove("scan-latest");
    });
    results.forEach(function (entry) { logBody.insertBefore(logLine(entry), logBody.firstChild); });
    if (!results.length) { return; }
    var newest = results[results.length - 1];
    showLast(newest.tone, newest.tracking_no, newest.message);
    signal(results.some(function (entry) { return !entry.added; }));
  }
  function showLast(tone, number, message) {
    var span = document.createElement("span");
    span.textContent = message;
    last.className = "pc-scan-last " + tone;
    last.textContent = "";
    if (number) { last.appendChild(code(number)); }
    last.appendChild(span);
  }
  // The bag's contents: added parcels go on top of its list, as the page shows them after a reload.
  var bagTable = document.getElementById("bag-parcels-table");
  function showParcels(parcels, count) {
    if (!parcels || !parcels.length) { return; }
    var body = bagTable.querySelector("tbody");
    var removeUrl = bagTable.dataset.removeUrl;
    parcels.forEach(function (parcel, index) {
      var row = document.createElement("tr");
      row.appendChild(cell(document.createTextNode(String(count - parcels.length + index + 1))));
      row.appendChild(cell(code(parcel.tracking_no)));
      row.appendChild(cell(document.createTextNode(parcel.order_id)));
      row.appendChild(cell(document.createTextNode(parcel.weight_kg || "—")));
      row.appendChild(cell(document.createTextNode(parcel.added_at)));
      if (removeUrl) {
        var takeOut = document.createElement("form");
        takeOut.method = "post";
        takeOut.className = "pc-inline-form";
        takeOut.action = removeUrl.replace(/\/0\/$/, "/" + parcel.id + "/");
        var token = document.createElement("input");
        token.type = "hidden";
        token.name = "csrfmiddlewaretoken";
        token.value = csrf;
        var button = document.createElement("button");
        button.type = "submit";
        button.name = "_remove";
        button.className = "pc-linkbutton";
        button.textContent = bagTable.dataset.textTakeOut;
        takeOut.appendChild(token);
        takeOut.appendChild(button);
        row.appendChild(cell(takeOut));
      }
      body.insertBefore(row, body.firstChild);
    });
    document.getElementById("bag-parcels-empty").hidden = true;
  }
  function showFailure(sent, message) {
    sent.forEach(function (item) {
      item.row.className = "scan-result scan-failed";
      item.row.dataset.outcome = "failed";
      item.row.lastChild.textContent = "";
      item.row.lastChild.appendChild(badge("refused", message || text.textFailed));
    });
    showLast("refused", "", message || text.textFailed);
    signal(true);
  }
  function showTotals(totals) {
    if (!totals) { return; }
    var count = document.getElementById("parcel-count");
    var weight = document.getElementById("parcel-weight");
    count.textContent = totals.parcels + " / " + totals.max_parcels;
    count.className = totals.over_parcels ? "pc-bad" : "";
    weight.textContent = totals.weight_kg + " / " + totals.max_weight_kg + " kg";
    weight.className = totals.over_weight ? "pc-bad" : "";
    document.getElementById("scan-added").textContent = totals.added;
    document.getElementById("scan-refused").textContent = totals.refused;
    document.getElementById("bag-parcels-count").textContent = totals.parcels;
  }
  function showQueue() {
    var waiting = queue.length + sending;
    queueStatus.dataset.pending = String(waiting);
    if (failures && !waiting) { return; }
    queueStatus.dataset.state = waiting ? "busy" : "idle";
    queueStatus.textContent = waiting ? text.textBusy + " (" + waiting + ")" : text.textIdle;
  }

  // ---- sending, in order ----------------------------------------------------------------------
  function post(url, body, contentType) {
    var headers = { "X-CSRFToken": csrf, "Accept": "application/json", "X-Requested-With": "XMLHttpRequest" };
    if (contentType) { headers["Content-Type"] = contentType; }
    return fetch(url, { method: "POST", credentials: "same-origin", headers: headers, body: body })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (payload) {
          return { status: response.status, payload: payload };
        });
      });
  }
  function pump() {
    if (sending || !queue.length) { showQueue(); return; }
    if (queue[0].readyForm) { markReady(queue.shift().readyForm); return; }
    var count = 0;
    while (count < queue.length && count < BATCH && !queue[count].readyForm) { count += 1; }
    var batch = queue.splice(0, count);
    sending = batch.length;
    showQueue();
    var numbers = batch.map(function (item) { return item.number; });
    var attempt = 0;
    function send() {
      post(text.jsonUrl, JSON.stringify({ numbers: numbers }), "application/json").then(function (answer) {
        if (answer.status === 200) {
          failures = 0;
          showResults(batch, answer.payload.results || []);
          showParcels(answer.payload.parcels, answer.payload.totals.parcels);
        } else if (answer.status >= 500 && attempt < RETRIES) {
          attempt += 1;
          setTimeout(send, 500 * attempt);
          return;
        } else {
          failures += 1;
          showFailure(batch, answer.payload.error);
        }
        showTotals(answer.payload.totals);
        done();
      }, function () {
        if (attempt < RETRIES) { attempt += 1; setTimeout(send, 500 * attempt); return; }
        failures += 1;
        showFailure(batch, null);
        done();
      });
    }
    function done() {
      sending = 0;
      pump();
    }
    send();
  }
  function enqueue() {
    var number = box.value;
    box.value = "";
    if (!number.trim()) { return; }
    queue.push({ number: number, row: pendingLine(number.trim()) });
    failures = 0;
    pump();
  }

  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      enqueue();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    enqueue();
    box.focus();
  });
  // "Mark ready to ship and add" on a refused Lazada line: queued like a scan (the log is written
  // by one request at a time), answered like one.
  function markReady(rts) {
    var button = rts.querySelector("button");
    sending = 1;
    showQueue();
    post(rts.action, new FormData(rts), null).then(function (answer) {
      if (answer.status === 200) {
        rts.remove();
        showResults([], answer.payload.results || []);
        showParcels(answer.payload.parcels, answer.payload.totals.parcels);
      } else {
        button.disabled = false;
        showFailure([], answer.payload.error);
      }
      showTotals(answer.payload.totals);
    }, function () {
      button.disabled = false;
      showFailure([], null);
    }).then(function () {
      sending = 0;
      box.focus();
      pump();
    });
  }
  document.getElementById("scan-results").addEventListener("submit", function (event) {
    var rts = event.target.closest(".pc-rts-form");
    if (!rts) { return; }
    event.preventDefault();
    rts.querySelector("button").disabled = true;
    queue.push({ readyForm: rts });
    pump();
  });
  showQueue();
  box.focus();
})();
