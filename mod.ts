/**
 * hyperhook: write, test, compare and live-swap hypervisor resource policies.
 *
 * A small deterministic kernel simulates a host (pCPUs, memory frames, disks) running VMs, and asks
 * *policies* (sandboxed plugins) what to do at every decision point. This entry point runs
 * workloads and reads reports; policies import `@hyperhook/hyperhook/policy`.
 *
 * @example Run a textbook workload and read its report
 * ```ts
 * import { parseWorkload, simulate } from "./mod.ts";
 *
 * const report = await simulate(parseWorkload({
 *   schema: "hyperhook.workload/v1",
 *   name: "rr-textbook",
 *   host: { pcpus: 1 },
 *   policies: { cpu: { use: "rr", config: { quantum: "4ms" } } },
 *   vms: [24, 3, 3].map((ms, i) => ({ id: `P${i + 1}`, cpu: { program: [{ run: `${ms}ms` }] } })),
 * }));
 * const meanWaitMs = report.vms.reduce((sum, vm) => sum + vm.cpu.waitNs, 0) / 3 / 1e6;
 * console.log(meanWaitMs); // 17/3
 * ```
 *
 * @module
 */

export {
  createSimulation,
  type PolicyChoice,
  simulate,
  type SimulateOptions,
  Simulation,
} from "./core/simulation/mod.ts";
export { parseWorkload, readWorkload, WorkloadError } from "./core/workload/load.ts";
export { WORKLOAD_SCHEMA } from "./core/workload/schema.ts";
export type {
  CpuWorkload,
  HostCpuWorkload,
  HostMemoryWorkload,
  HostWorkload,
  MemoryRef,
  MemoryWorkload,
  PlanetlabTrace,
  ProgramStep,
  TimelineChange,
  VmParamsChange,
  VmWorkload,
  Workload,
  WorkloadPolicy,
} from "./core/workload/types.ts";
export type {
  IoGeneratorSpec,
  IoLimitsSpec,
  IoParamsChange,
  IoRequestSpec,
  IoSizeSpec,
  IoStepSpec,
  IoTraceSpec,
  VmIoWorkload,
} from "./core/workload/io_types.ts";
export type {
  DiskSpec,
  HddDiskSpec,
  LinearDiskSpec,
  SsdDiskSpec,
} from "./core/workload/disk_specs.ts";
export type { LoadedPolicy } from "./core/kernel/slot.ts";
export {
  type HostReport,
  type Latency,
  type Report,
  REPORT_SCHEMA,
  type ReportPolicy,
  type VmCpuReport,
  type VmIoReport,
  type VmMemoryReport,
  type VmReport,
} from "./core/report/report.ts";
export { formatComparison, formatReport } from "./core/report/table.ts";
export { type Incident, type PolicyInfo } from "./core/kernel/slot.ts";
export { PolicyConfigError } from "./core/kernel/kernel.ts";
export { type LoadOptions, loadPolicy, PolicyReferenceError } from "./core/simulation/loader.ts";
export {
  type FailureKind,
  type Isolation,
  PolicyFailure,
  type PolicyRuntime,
  type StreamedBatch,
} from "./core/protocol/runtime.ts";
export { BUILTIN_POLICIES, type BuiltinPolicy } from "./plugins/mod.ts";
export {
  createDatacenterSimulation,
  DatacenterSimulation,
  simulateDatacenter,
} from "./core/datacenter/simulation.ts";
export {
  DATACENTER_SCHEMA,
  isDatacenterWorkload,
  parseDatacenter,
  readDatacenter,
} from "./core/datacenter/schema.ts";
export type {
  DatacenterPolicyChoice,
  DatacenterSpec,
  DatacenterWorkload,
  DemandSpec,
  HostGroupSpec,
  HostTypeSpec,
  MigrationSpec,
  Quirks,
  VmGroupSpec,
  VmTypeSpec,
} from "./core/datacenter/types.ts";
export {
  type DatacenterFigures,
  type DatacenterReport,
  type DatacenterTimeline,
  formatDatacenter,
  type HostFigures,
} from "./core/datacenter/report.ts";
export { main } from "./core/cli.ts";
