// Recent log lines kept in memory for GET /logs, also written to stdout.

export class LogBuffer {
  constructor(limit = 1000, { quiet = false } = {}) {
    this.limit = limit
    this.quiet = quiet
    this.lines = []
  }

  add(level, message, fields = {}) {
    const entry = { timestamp: new Date().toISOString(), level, message, ...fields }
    this.lines.push(entry)
    if (this.lines.length > this.limit) this.lines.splice(0, this.lines.length - this.limit)
    if (!this.quiet) console.log(JSON.stringify(entry))
    return entry
  }

  info(message, fields) { return this.add('info', message, fields) }
  warn(message, fields) { return this.add('warn', message, fields) }
  error(message, fields) { return this.add('error', message, fields) }

  /** The newest `n` entries, oldest first. */
  recent(n) {
    return this.lines.slice(-n)
  }
}
