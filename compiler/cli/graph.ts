// `pipec graph`: a pipeline's graph as text, Mermaid or Graphviz dot.

import type { Pipeline, StepNode, TypedPipeline } from '../ir/pipeline.ts';
import { formatDuration } from '../ir/duration.ts';

export type GraphFormat = 'text' | 'mermaid' | 'dot';

interface Node {
  readonly id: string;
  readonly label: string;
  readonly shape: 'source' | 'step' | 'sink';
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
}

export function renderGraph(typed: TypedPipeline, format: GraphFormat): string {
  const { nodes, edges } = graphOf(typed.pipeline);
  switch (format) {
    case 'text':
      return text(typed, nodes, edges);
    case 'mermaid':
      return mermaid(nodes, edges);
    case 'dot':
      return dot(typed.pipeline.name, nodes, edges);
  }
}

function graphOf(pipeline: Pipeline): { nodes: Node[]; edges: Edge[] } {
  const nodes: Node[] = [];
  const edges: Edge[] = [];
  const producer = new Map<string, { node: string; label: string }>();
  for (const source of pipeline.sources) {
    nodes.push({ id: source.id, label: `${source.id}: ${source.connector}`, shape: 'source' });
    producer.set(source.id, { node: source.id, label: '' });
    if (source.deadLetter) producer.set(source.deadLetter, { node: source.id, label: source.deadLetter });
  }
  for (const step of pipeline.steps) {
    nodes.push({ id: step.id, label: `${step.id}: ${describe(step)}`, shape: 'step' });
    producer.set(step.id, { node: step.id, label: '' });
    if (step.kind === 'split') for (const branch of step.branches) producer.set(`${step.id}.${branch.name}`, { node: step.id, label: branch.name });
    if (step.kind === 'window' && step.lateOutput) producer.set(step.lateOutput, { node: step.id, label: step.lateOutput });
    if (step.kind === 'validate') producer.set(step.invalidOutput, { node: step.id, label: step.invalidOutput });
  }
  const connect = (stream: string, to: string) => {
    const from = producer.get(stream);
    if (from) edges.push({ from: from.node, to, label: from.label });
  };
  for (const step of pipeline.steps) for (const ref of step.from) connect(ref.name, step.id);
  for (const sink of pipeline.sinks) {
    nodes.push({ id: `sink_${sink.id}`, label: `${sink.id}: ${sink.connector}`, shape: 'sink' });
    connect(sink.from.name, `sink_${sink.id}`);
  }
  return { nodes, edges };
}

function describe(step: StepNode): string {
  switch (step.kind) {
    case 'filter':
      return `filter ${step.condition.text}`;
    case 'map':
      return `map ${step.fields.map((f) => f.name).join(', ')}`;
    case 'set':
      return `set ${step.fields.map((f) => f.name).join(', ')}`;
    case 'explode':
      return `explode ${step.field}`;
    case 'key_by':
      return `key_by ${step.key.fields.map((f) => f.name).join(', ')}`;
    case 'union':
      return 'union';
    case 'split':
      return `split ${step.branches.map((b) => b.name).join(', ')}`;
    case 'dedupe':
      return `dedupe ${step.key.fields.map((f) => f.name).join(', ')} within ${formatDuration(step.withinMs)}`;
    case 'validate':
      return `validate ${step.rules.map((r) => r.name).join(', ')}`;
    case 'window': {
      const w = step.window;
      const kind =
        w.kind === 'tumbling' ? `tumbling ${formatDuration(w.sizeMs)}`
        : w.kind === 'sliding' ? `sliding ${formatDuration(w.sizeMs)}/${formatDuration(w.slideMs)}`
        : w.kind === 'session' ? `session gap ${formatDuration(w.gapMs)}`
        : 'global';
      const keyed = step.keyBy ? `key_by ${step.keyBy.fields.map((f) => f.name).join(', ')}, ` : '';
      return `${keyed}window ${kind}: ${step.aggregates.map((a) => a.name).join(', ')}`;
    }
  }
}

function text(typed: TypedPipeline, nodes: readonly Node[], edges: readonly Edge[]): string {
  const lines = [`pipeline ${typed.pipeline.name}`];
  for (const node of nodes) {
    const targets = edges.filter((edge) => edge.from === node.id).map((edge) => (edge.label ? `${edge.to.replace(/^sink_/, '')} [${edge.label}]` : edge.to.replace(/^sink_/, '')));
    const type = node.shape === 'sink' ? '' : ` (${typed.streams.get(node.id)?.type.name ?? '?'})`;
    lines.push(`  ${node.shape.padEnd(6)} ${node.label}${type}${targets.length ? `\n           → ${targets.join(', ')}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

function mermaid(nodes: readonly Node[], edges: readonly Edge[]): string {
  const escape = (label: string) => label.replace(/"/g, '#quot;');
  const lines = ['flowchart LR'];
  for (const node of nodes) {
    const label = escape(node.label);
    lines.push(node.shape === 'source' ? `  ${node.id}[/"${label}"/]` : node.shape === 'sink' ? `  ${node.id}[\\"${label}"\\]` : `  ${node.id}["${label}"]`);
  }
  for (const edge of edges) lines.push(edge.label ? `  ${edge.from} -- ${edge.label} --> ${edge.to}` : `  ${edge.from} --> ${edge.to}`);
  return lines.join('\n') + '\n';
}

function dot(name: string, nodes: readonly Node[], edges: readonly Edge[]): string {
  const lines = [`digraph ${JSON.stringify(name)} {`, '  rankdir=LR;'];
  for (const node of nodes) {
    const shape = node.shape === 'source' ? 'invhouse' : node.shape === 'sink' ? 'house' : 'box';
    lines.push(`  ${node.id} [label=${JSON.stringify(node.label)}, shape=${shape}];`);
  }
  for (const edge of edges) lines.push(`  ${edge.from} -> ${edge.to}${edge.label ? ` [label=${JSON.stringify(edge.label)}]` : ''};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
