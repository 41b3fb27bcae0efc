// wrangler compiles imported .wasm files at upload and hands the module over (Workers cannot compile bytes at run time).
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
