/* The browser client of the chat: the same behaviour as the tutorial's Node.js
   client (client/chat.js in examples/chat), in a page.
   Messages typed here go to every other client; messages from the others
   are shown with "=> ". No build step: the browser's own WebSocket. */
(function () {
  "use strict";

  var statusEl = document.getElementById("status");
  var extensionsEl = document.getElementById("extensions");
  var messagesEl = document.getElementById("messages");
  var form = document.getElementById("form");
  var input = document.getElementById("message");
  var button = document.getElementById("send");

  function show(text, kind) {
    var li = document.createElement("li");
    li.className = kind;
    li.textContent = text;
    messagesEl.appendChild(li);
    messagesEl.scrollTop = messagesEl.scrollHeight;
  }

  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  // The same URL and subprotocol as the Node.js client: ws://host/chat, "chat".
  var ws = new WebSocket(scheme + location.host + "/chat", "chat");

  ws.onopen = function () {
    statusEl.textContent = "connected";
    extensionsEl.textContent = ws.extensions ? "(" + ws.extensions + ")" : "";
    input.disabled = false;
    button.disabled = false;
    input.focus();
  };

  ws.onmessage = function (event) {
    if (typeof event.data === "string") {
      show(event.data, "received");
    }
  };

  ws.onerror = function () {
    show("Connection Error", "info");
  };

  ws.onclose = function (event) {
    statusEl.textContent = "closed";
    show("chat Connection Closed. Code=" + event.code + " (" + event.reason + ")", "info");
    input.disabled = true;
    button.disabled = true;
  };

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var line = input.value;
    if (ws.readyState !== WebSocket.OPEN) {
      return;
    }
    ws.send(line);
    show(line, "sent");
    input.value = "";
  });

  // For scripts and tests: the socket and the way the page shows messages.
  window.chat = { socket: ws, show: show };
})();
