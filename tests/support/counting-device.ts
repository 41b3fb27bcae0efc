/**
 * A GPUDevice that counts what is allocated through it: every buffer and query set created, and
 * which of them have been destroyed. A Proxy over the real device, so the session under test uses
 * Dawn exactly as usual; methods are bound to the real device because Dawn's native methods reject
 * any other `this`.
 */
export interface CountingDevice {
  readonly device: GPUDevice;
  /** Everything created through the device so far. */
  created(): number;
  /** Labels ("buffer 4096 B", "query set") of what was created and is not destroyed yet. */
  live(): string[];
}

export function countingDevice(real: GPUDevice): CountingDevice {
  const alive = new Map<object, string>();
  let created = 0;
  const track = <R extends GPUBuffer | GPUQuerySet>(resource: R, label: string): R => {
    created++;
    alive.set(resource, label);
    const destroy = resource.destroy.bind(resource);
    Object.defineProperty(resource, 'destroy', {
      configurable: true,
      value: () => {
        alive.delete(resource);
        destroy();
      },
    });
    return resource;
  };
  const device = new Proxy(real, {
    get(target, prop) {
      if (prop === 'createBuffer') return (d: GPUBufferDescriptor) => track(target.createBuffer(d), `buffer ${d.size} B`);
      if (prop === 'createQuerySet') return (d: GPUQuerySetDescriptor) => track(target.createQuerySet(d), `query set (${d.count})`);
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { device, created: () => created, live: () => [...alive.values()] };
}
