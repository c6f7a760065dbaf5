import { v7 } from 'uuid';

/** Event ids are UUIDv7 so they sort by creation time. */
export function newEventId(): string {
  return v7();
}
