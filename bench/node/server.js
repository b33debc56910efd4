// The Node.js peer of bench/: node:http for the HTTP hello on /, ws for the
// echo on /echo and the chat on /chat. One process (no cluster), ws with its
// native bufferutil (required: the peer is ws as deployed), compression off.
// Started by bench/servers/node_ws_server.py: node server.js --port N [--host H]
'use strict';

const http = require('node:http');
require('bufferutil'); // fail here, loudly, when the native addon is not there
const { WebSocketServer, WebSocket } = require('ws');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number(arg('--port', '0'));
const host = arg('--host', '127.0.0.1');
const HELLO = Buffer.from('Hello, World!');
const options = { noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 };

const echo = new WebSocketServer(options);
echo.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});

// The chat as ws's README broadcasts: every other open client of this server.
const chat = new WebSocketServer(options);
chat.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      ws.close(1003, 'Chat-Server only accepts text messages');
      return;
    }
    for (const client of chat.clients) {
      if (client !== ws && client.readyState === WebSocket.OPEN) client.send(data, { binary: false });
    }
  });
});

const server = http.createServer((req, res) => {
  if (req.url === '/') {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': HELLO.length });
    res.end(HELLO);
  } else {
    res.writeHead(404, { 'Content-Length': 0 });
    res.end();
  }
});
server.keepAliveTimeout = 300 * 1000;
server.headersTimeout = 0;
server.requestTimeout = 0;

server.on('upgrade', (req, socket, head) => {
  const path = req.url.split('?', 1)[0];
  const wss = path === '/echo' ? echo : path === '/chat' ? chat : null;
  if (wss === null) {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

server.listen(port, host, 4096, () => {
  console.log(`READY ${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
