/**
 * The Socket.IO baseline of the chat fan-out benchmark, run as its own process so its CPU and memory are measured
 * alone: a plain Socket.IO server with default settings doing only fan-out. Every connection joins room `chat`;
 * a `chat` event from any socket is re-emitted with `io.to('chat').emit('chat', msg)` to every socket in the room.
 * Usage: node socketio-server.js <port>  — prints `listening <port>` on stdout when ready; exits on SIGTERM.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2] ?? 0);
const httpServer = createServer();
const io = new Server(httpServer);

io.on('connection', (socket) => {
  void socket.join('chat');
  socket.on('chat', (msg: unknown) => {
    io.to('chat').emit('chat', msg);
  });
});

httpServer.listen(port, '127.0.0.1', () => {
  const a = httpServer.address();
  process.stdout.write(`listening ${typeof a === 'object' && a ? a.port : port}\n`);
});
process.on('SIGTERM', () => {
  void io.close();
  setTimeout(() => process.exit(0), 500).unref();
});
