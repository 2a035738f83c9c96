// Start dynalite (npm, MIT) the way its own CLI does, but survive a client that disconnects in the
// middle of a request. dynalite rethrows a request's 'error' event (index.js: req.on('error', err
// => { throw err })), so one client killed mid-request (the backfill crash test SIGKILLs one on
// purpose) takes the whole server down, and every later test of the session fails to connect.
// A real DynamoDB endpoint shrugs that off; so does this one. Any other error still ends it.
'use strict'
const args = process.argv.slice(2)
const flag = (name) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined }
const argv = { port: Number(flag('port') || 4567), host: flag('host') }

process.on('uncaughtException', (err) => {
  if (err && (err.code === 'ECONNRESET' || err.message === 'aborted')) {
    console.error(`client went away mid-request (${err.message}); still serving`)
    return
  }
  console.error(err)
  process.exit(1)
})

const server = require('dynalite')(argv).listen(argv.port || 4567, argv.host || undefined, () => {
  console.log(`Dynalite listening at: http://${argv.host || 'localhost'}:${server.address().port}`)
})
