# Sourced by scripts/setup-wasm and scripts/build-wasm: which wasm-opt the bundle build uses.
#
# Older wasm-opt releases mishandle the reference-types table wasm-bindgen emits: Debian's 108
# wrote a module the browser refused at start (`WebAssembly.Table.set(): Argument 1 is invalid`).
# So a wasm-opt on PATH is used from 116 on; otherwise binaryen's own npm release (wasm-opt
# compiled to wasm, run by Node.js), which scripts/setup-wasm installs, pinned, under the target
# folder (cargo-leptos cannot download one here either).
wasm_opt_minimum=116
binaryen_npm_version=132.0.0
binaryen_npm_dir="${CARGO_TARGET_DIR:-target}/tools/binaryen"
npm_wasm_opt="${binaryen_npm_dir}/node_modules/.bin/wasm-opt"

# The major version that `$1 --version` reports, or nothing.
wasm_opt_major() { "$1" --version 2>/dev/null | grep -oE '[0-9]+' | head -n1 || true; }

# True when major version `$1` is one the bundle build may use (false for nothing).
wasm_opt_recent() { [ -n "$1" ] && [ "$1" -ge "${wasm_opt_minimum}" ]; }

# Sets `wasm_opt` (the command) and `wasm_opt_version` (its major version): PATH's when recent
# enough, else the npm one when installed, else PATH's too old one (or nothing at all).
choose_wasm_opt() {
  wasm_opt=wasm-opt
  wasm_opt_version=$(wasm_opt_major wasm-opt)
  if ! wasm_opt_recent "${wasm_opt_version}"; then
    local npm_version
    npm_version=$(wasm_opt_major "${npm_wasm_opt}")
    if [ -n "${npm_version}" ]; then
      wasm_opt="${npm_wasm_opt}"
      wasm_opt_version="${npm_version}"
    fi
  fi
}
