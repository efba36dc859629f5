/** Detached per-agent supervisors: launch, probe, kill. */
export {
  CHILD_PID_FILE,
  EXIT_FILE,
  OUTPUT_LOG,
  SPEC_FILE,
  SUPERVISOR_PID_FILE,
  type ExitRecord,
  type SpawnError,
  type SupervisorSpec,
} from './spec.js';
export { freshBuild, launchSupervisor, supervisorCommand, supervisorCommandFor, type LaunchOptions, type LaunchResult } from './launch.js';
export { isGroupAlive, isSupervisorAlive, readExitRecord, readPidFile, requestKill } from './probe.js';
export { groupMembers, signalGroup } from './proc.js';
