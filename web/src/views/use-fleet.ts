import { useEffect, useState } from 'preact/hooks';
import { fleet } from '../fleet';

/** Re-renders the caller whenever the fleet changes (batched by the fleet itself). */
export function useFleet(): typeof fleet {
  const [, setVersion] = useState(fleet.version);
  useEffect(() => fleet.subscribe(() => setVersion(fleet.version)), []);
  return fleet;
}

/** Re-renders the caller every `ms`, for ages and durations. */
export function useTick(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}
