// A small client for the ChatService on /kitura-chat ("C:name", "M:name:text", "T:name", "S:name").
(function () {
  const log = document.getElementById("log");
  const typing = document.getElementById("typing");
  const typers = new Set();
  let socket = null;
  let me = "";

  function line(text) {
    const p = document.createElement("p");
    p.textContent = text;
    log.appendChild(p);
    log.scrollTop = log.scrollHeight;
  }

  function showTyping() {
    typing.textContent = typers.size ? [...typers].join(", ") + " typing…" : "";
  }

  document.getElementById("join").addEventListener("submit", function (event) {
    event.preventDefault();
    me = document.getElementById("name").value.trim();
    if (!me) return;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/kitura-chat");
    socket.onopen = function () {
      socket.send("C:" + me);
      document.getElementById("join").hidden = true;
      document.getElementById("say").hidden = false;
    };
    socket.onmessage = function (event) {
      const kind = event.data[0];
      const rest = event.data.slice(2);
      if (kind === "C" || kind === "c") line(rest + " is in the chat");
      else if (kind === "D") { line(rest + " left"); typers.delete(rest); showTyping(); }
      else if (kind === "M") {
        const i = rest.indexOf(":");
        line(rest.slice(0, i) + ": " + rest.slice(i + 1));
        typers.delete(rest.slice(0, i)); showTyping();
      } else if (kind === "T" && rest !== me) { typers.add(rest); showTyping(); }
      else if (kind === "S") { typers.delete(rest); showTyping(); }
    };
    socket.onclose = function (event) { line("Disconnected (" + event.code + ")"); };
  });

  const text = document.getElementById("text");
  text.addEventListener("input", function () {
    if (socket) socket.send((text.value ? "T:" : "S:") + me);
  });
  document.getElementById("say").addEventListener("submit", function (event) {
    event.preventDefault();
    if (socket && text.value) socket.send("M:" + me + ":" + text.value);
    text.value = "";
  });
})();
