// The test book flow: brief → outline (JSON) → map of chapter writers → compile.

export function bookFlow({ chapters = 3, concurrency = 2, stream = true, model = 'gpt-test' } = {}) {
  return {
    nodes: [
      { id: 'brief', type: 'input', position: { x: 0, y: 0 },
        data: { label: 'Brief', fields: [
          { name: 'title', type: 'string', required: true },
          { name: 'chapters', type: 'integer', default: chapters },
        ] } },
      { id: 'outline', type: 'text', position: { x: 200, y: 0 },
        data: { provider: 'openai', model, max_tokens: 800, output: 'json', stream,
                prompt: 'OUTLINE {{input.title}} in {{input.chapters}} chapters' } },
      { id: 'write', type: 'map', position: { x: 400, y: 0 },
        data: { items: '{{nodes.outline.output.chapters}}', concurrency, expected_items: '{{input.chapters}}',
                node: { kind: 'text', provider: 'openai', model, max_tokens: 400, stream,
                        prompt: 'WRITE chapter {{item.number}}: {{item.title}} of {{input.title}}' } } },
      { id: 'book', type: 'compile', position: { x: 600, y: 0 },
        data: { title: '{{input.title}}', chapters: '{{nodes.write.output}}',
                titles: '{{nodes.outline.output.chapters}}' } },
    ],
    edges: [
      { id: 'e1', source: 'brief', target: 'outline' },
      { id: 'e2', source: 'outline', target: 'write' },
      { id: 'e3', source: 'write', target: 'book' },
    ],
  }
}

/** Prices for the test model, so wallets are charged. */
export const catalogJson = JSON.stringify({ models: [
  { provider: 'openai', model_id: 'gpt-test', name: 'Test', category: 'text', input_per_1k: 1000, output_per_1k: 1000, is_default: true },
] })
