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
export { freshBuild, launchSupervisor, prestartSupervisor, supervisorCommand, supervisorCommandFor, type LaunchOptions, type LaunchResult, type PrestartedSupervisor } from './launch.js';
export { readPidFile, readPidRecord, writePidFile, type PidRecord } from './pid-file.js';
export {
  isGroupAlive,
  isSupervisorAlive,
  readExitRecord,
  recordedGroup,
  requestKill,
  signalSupervisor,
  type KillRequest,
  type RecordedGroup,
} from './probe.js';
export { BOOT_ID_PATH_VAR, groupMembers, MARKER_VAR, signalChildGroup } from './proc.js';
