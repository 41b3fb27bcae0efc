import { GpuError } from '../../errors.js';
import { sizeOf, type Tensor } from '../../tensor.js';
import type { BindingRef } from '../../../kernels/op.js';
import type { AcquiredDevice } from '../../gpu/device.js';
import type { ExecutionPlan } from '../plan.js';
import { packQConvChains } from './packed-fusion.js';
import { fusePooledQConvs } from './pool-fusion.js';
import { planKernels } from '../kernel-plans.js';
import { align, bytesOf, fromWords, planValueSlots, scratchKey, toWords } from '../value-slots.js';

/**
 * An execution plan made resident on a GPU device. Everything that can be done once is done at
 * load: kernels planned, pipelines compiled (async, in parallel), buffers allocated by lifetime,
 * constants uploaded, uniforms written, bind groups created. A run then uploads the feeds, records
 * one compute pass of prebuilt dispatches, and reads every output back through one mapped buffer.
 */

interface Dispatch {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
}

export interface NodeRecord {
  readonly name: string;
  readonly opType: string;
  readonly dispatches: number;
}

interface OutputSlot {
  readonly name: string;
  readonly buffer: GPUBuffer;
  readonly bytes: number;
  readonly stagingOffset: number;
}

const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

function pipelineFor(device: GPUDevice, code: string): Promise<GPUComputePipeline> {
  let byCode = pipelineCache.get(device);
  if (!byCode) pipelineCache.set(device, (byCode = new Map()));
  let p = byCode.get(code);
  if (!p) {
    p = device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    byCode.set(code, p);
    // A failed compile is reported to this load only; the next one tries again.
    p.catch(() => byCode.delete(code));
  }
  return p;
}

export interface GpuTimings {
  readonly perNodeMs: readonly number[];
}

export class GpuExecutable {
  readonly nodes: readonly NodeRecord[];
  readonly dispatchCount: number;
  readonly pipelineCount: number;
  private readonly perNode: readonly (readonly Dispatch[])[];
  private readonly ownedBuffers: GPUBuffer[];
  private readonly inputBuffers: ReadonlyMap<string, GPUBuffer>;
  private readonly outputs: readonly OutputSlot[];
  private readonly staging: GPUBuffer;
  private readonly constOutputs: ReadonlyMap<string, Tensor>;
  private readonly querySet: GPUQuerySet | undefined;
  private readonly queryResolve: GPUBuffer | undefined;
  private readonly queryRead: GPUBuffer | undefined;

  private constructor(
    private readonly device: GPUDevice,
    private readonly plan: ExecutionPlan,
    parts: {
      nodes: NodeRecord[]; perNode: Dispatch[][]; owned: GPUBuffer[]; inputs: Map<string, GPUBuffer>;
      outputs: OutputSlot[]; staging: GPUBuffer; constOutputs: Map<string, Tensor>; pipelineCount: number;
      timestamps: boolean;
    },
  ) {
    this.nodes = parts.nodes;
    this.perNode = parts.perNode;
    this.ownedBuffers = parts.owned;
    this.inputBuffers = parts.inputs;
    this.outputs = parts.outputs;
    this.staging = parts.staging;
    this.constOutputs = parts.constOutputs;
    this.pipelineCount = parts.pipelineCount;
    this.dispatchCount = parts.perNode.reduce((n, d) => n + d.length, 0);
    if (parts.timestamps && parts.perNode.length > 0) {
      const count = parts.perNode.length * 2;
      this.querySet = device.createQuerySet({ type: 'timestamp', count });
      this.queryResolve = device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      this.queryRead = device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
  }

  static async create(acquired: AcquiredDevice, unfused: ExecutionPlan): Promise<GpuExecutable> {
    const { device } = acquired;
    const plan = packQConvChains(fusePooledQConvs(unfused));
    const opPlans = planKernels(plan, 'webgpu', acquired.wgslFeatures);

    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    const owned: GPUBuffer[] = [];
    const createBuffer = (size: number, usage: number): GPUBuffer => {
      const b = device.createBuffer({ size, usage });
      owned.push(b);
      return b;
    };
    const upload = (t: Tensor): GPUBuffer => {
      const b = createBuffer(bytesOf(t.dims), STORAGE());
      const words = toWords(t);
      if (words.byteLength > 0) device.queue.writeBuffer(b, 0, words);
      return b;
    };

    try {
      const slots = planValueSlots(plan, opPlans.map((op) => ({ alias: op.kind === 'alias', scratch: op.kind === 'dispatch' ? op.scratch : undefined })));
      const { rootOf } = slots;
      const pool = slots.slotBytes.map((b) => createBuffer(b, STORAGE()));
      const bufferOf = new Map<string, GPUBuffer>([...slots.slotOf].map(([n, i]) => [n, pool[i]!]));
      const constBuffers = new Map<string, GPUBuffer>();
      const valueBuffer = (name: string): GPUBuffer => {
        const r = rootOf(name);
        const b = bufferOf.get(r);
        if (b) return b;
        const t = plan.constants.get(r);
        if (!t) throw new GpuError(`internal: no buffer for value "${name}"`);
        let c = constBuffers.get(r);
        if (!c) {
          c = upload(t);
          constBuffers.set(r, c);
        }
        return c;
      };

      // Pipelines: one per distinct shader, all compiled concurrently before any run, and shared
      // with every other plan on the device (shape buckets, other sessions) that uses the shader.
      const codes = new Set(opPlans.flatMap((op) => (op.kind === 'dispatch' ? op.programs.map((p) => p.code) : [])));
      const pipelines = new Map<string, GPUComputePipeline>();
      await Promise.all([...codes].map(async (code) => pipelines.set(code, await pipelineFor(device, code))));

      const perNode: Dispatch[][] = [];
      const records: NodeRecord[] = [];
      plan.nodes.forEach((p, k) => {
        const op = opPlans[k]!;
        const dispatches: Dispatch[] = [];
        if (op.kind === 'dispatch') {
          const constants = (op.constants ?? []).map(upload);
          for (const prog of op.programs) {
            if (prog.workgroups.some((w) => w === 0)) continue;
            const resolve = (ref: BindingRef): GPUBuffer => {
              if ('input' in ref) return valueBuffer(p.node.inputs[ref.input]!);
              if ('output' in ref) return valueBuffer(p.node.outputs[ref.output]!);
              if ('scratch' in ref) return bufferOf.get(scratchKey(k, ref.scratch))!;
              return constants[ref.constant]!;
            };
            const entries: GPUBindGroupEntry[] = prog.bindings.map((ref, binding) => ({ binding, resource: { buffer: resolve(ref) } }));
            if (prog.uniforms) {
              const u = createBuffer(prog.uniforms.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
              device.queue.writeBuffer(u, 0, prog.uniforms as Uint32Array<ArrayBuffer>);
              entries.push({ binding: prog.bindings.length, resource: { buffer: u } });
            }
            const pipeline = pipelines.get(prog.code)!;
            dispatches.push({ pipeline, bindGroup: device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }), workgroups: prog.workgroups });
          }
        }
        perNode.push(dispatches);
        records.push({ name: p.node.name, opType: p.node.opType, dispatches: dispatches.length });
      });

      const inputs = new Map(plan.inputs.map((i) => [i.name, bufferOf.get(i.name)!]));
      const constOutputs = new Map<string, Tensor>();
      const outputs: OutputSlot[] = [];
      let stagingBytes = 0;
      for (const o of plan.outputs) {
        const c = plan.constants.get(o.name);
        if (c && !bufferOf.has(rootOf(o.name))) {
          constOutputs.set(o.name, c);
          continue;
        }
        const n = sizeOf(o.dims) * 4;
        outputs.push({ name: o.name, buffer: valueBuffer(o.name), bytes: n, stagingOffset: stagingBytes });
        stagingBytes += align(n, 16);
      }
      const staging = createBuffer(Math.max(16, stagingBytes), GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);

      const oom = await device.popErrorScope();
      const invalid = await device.popErrorScope();
      const err = invalid ?? oom;
      if (err) throw new GpuError(`WebGPU rejected the model's kernels: ${err.message}`);
      return new GpuExecutable(device, plan, {
        nodes: records, perNode, owned, inputs, outputs, staging, constOutputs,
        pipelineCount: pipelines.size, timestamps: acquired.features.has('timestamp-query'),
      });
    } catch (e) {
      for (const b of owned) b.destroy();
      await device.popErrorScope().catch(() => undefined);
      await device.popErrorScope().catch(() => undefined);
      throw e;
    }
  }

  /** Runs once; with `profile`, each node gets its own pass bracketed by timestamp queries. */
  async run(feeds: ReadonlyMap<string, Tensor>, profile = false): Promise<{ outputs: Map<string, Tensor>; timings?: GpuTimings }> {
    const { device } = this;
    for (const [name, buffer] of this.inputBuffers) {
      const words = toWords(feeds.get(name)!);
      if (words.byteLength > 0) device.queue.writeBuffer(buffer, 0, words);
    }
    const timed = profile && this.querySet !== undefined;
    const encoder = device.createCommandEncoder();
    const encodeNodes = (pass: GPUComputePassEncoder, dispatches: readonly Dispatch[]): void => {
      for (const d of dispatches) {
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      }
    };
    if (timed) {
      this.perNode.forEach((dispatches, k) => {
        const pass = encoder.beginComputePass({ timestampWrites: { querySet: this.querySet!, beginningOfPassWriteIndex: 2 * k, endOfPassWriteIndex: 2 * k + 1 } });
        encodeNodes(pass, dispatches);
        pass.end();
      });
      encoder.resolveQuerySet(this.querySet!, 0, this.perNode.length * 2, this.queryResolve!, 0);
      encoder.copyBufferToBuffer(this.queryResolve!, 0, this.queryRead!, 0, this.perNode.length * 16);
    } else if (this.dispatchCount > 0) {
      const pass = encoder.beginComputePass();
      for (const dispatches of this.perNode) encodeNodes(pass, dispatches);
      pass.end();
    }
    for (const o of this.outputs) {
      if (o.bytes > 0) encoder.copyBufferToBuffer(o.buffer, 0, this.staging, o.stagingOffset, align(o.bytes, 4));
    }
    device.queue.submit([encoder.finish()]);

    const reads: Promise<unknown>[] = [this.staging.mapAsync(GPUMapMode.READ)];
    if (timed) reads.push(this.queryRead!.mapAsync(GPUMapMode.READ));
    try {
      await Promise.all(reads);
    } catch (cause) {
      throw new GpuError(`reading results back failed: ${(cause as Error).message}`, { cause });
    }
    const mapped = this.staging.getMappedRange();
    const outputs = new Map<string, Tensor>();
    for (const o of this.plan.outputs) {
      const c = this.constOutputs.get(o.name);
      if (c) {
        outputs.set(o.name, c);
        continue;
      }
      const slot = this.outputs.find((s) => s.name === o.name)!;
      outputs.set(o.name, { dtype: o.dtype, dims: o.dims, data: fromWords(mapped, slot.stagingOffset, o.dtype, sizeOf(o.dims)) });
    }
    this.staging.unmap();
    let timings: GpuTimings | undefined;
    if (timed) {
      const ts = new BigUint64Array(this.queryRead!.getMappedRange().slice(0));
      this.queryRead!.unmap();
      timings = { perNodeMs: this.perNode.map((_, k) => Number(ts[2 * k + 1]! - ts[2 * k]!) / 1e6) };
    }
    return { outputs, timings };
  }

  dispose(): void {
    for (const b of this.ownedBuffers) b.destroy();
    this.querySet?.destroy();
    this.queryResolve?.destroy();
    this.queryRead?.destroy();
  }
}
