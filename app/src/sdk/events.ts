// The program's events, read back from transaction logs. Anchor's `emit!` logs each event as
// "Program data: <base64>" (8-byte event discriminator, then the borsh payload) while the program is
// executing; the discriminators and payload codecs come from the IDL (src/generated/events.ts).
import { getBase64Encoder, type Address, type ReadonlyUint8Array } from "@solana/kit";

import { toHex } from "../crypto/bytes.js";
import { DATA_MARKET_EVENTS, type DataMarketEvent, type DataMarketEventName } from "../generated/events.js";
import { DATA_MARKET_PROGRAM_ADDRESS } from "./constants.js";

export type { DataMarketEvent, DataMarketEventName };
export { DATA_MARKET_EVENTS };

const byDiscriminator = new Map(DATA_MARKET_EVENTS.map((e) => [toHex(e.discriminator), e]));
const base64 = getBase64Encoder();

/** Decodes one event's bytes (discriminator + payload); null when it is not an event of the program. */
export function decodeEvent(data: ReadonlyUint8Array): DataMarketEvent | null {
  if (data.length < 8) return null;
  const definition = byDiscriminator.get(toHex(data.subarray(0, 8)));
  if (!definition) return null;
  const payload = definition.decoder.decode(data.subarray(8));
  return { name: definition.name, data: payload } as DataMarketEvent;
}

const INVOKE = /^Program (\w+) invoke \[\d+\]$/;
const EXIT = /^Program (\w+) (?:success|failed: .*)$/;
const DATA = "Program data: ";

/**
 * Every event the program emitted, in order. Only "Program data:" lines logged while the program
 * itself is executing count (a program it calls, or one that calls it, may log data too).
 */
export function parseEvents(
  logs: readonly string[],
  programAddress: Address = DATA_MARKET_PROGRAM_ADDRESS,
): DataMarketEvent[] {
  const events: DataMarketEvent[] = [];
  const stack: string[] = [];
  for (const line of logs) {
    let m: RegExpMatchArray | null;
    if ((m = line.match(INVOKE))) {
      stack.push(m[1]!);
    } else if (line.match(EXIT)) {
      stack.pop();
    } else if (line.startsWith(DATA) && stack.at(-1) === programAddress) {
      // sol_log_data logs each slice as its own base64 field; emit! logs one.
      const [first] = line.slice(DATA.length).trim().split(" ");
      if (!first) continue;
      let bytes: ReadonlyUint8Array;
      try {
        bytes = base64.encode(first);
      } catch {
        continue;
      }
      const event = decodeEvent(bytes);
      if (event) events.push(event);
    }
  }
  return events;
}

/** The events named `name`, typed. */
export function eventsNamed<N extends DataMarketEventName>(
  events: readonly DataMarketEvent[],
  name: N,
): EventData<N>[] {
  return events.filter((e) => e.name === name).map((e) => e.data as EventData<N>);
}

/** The payload type of the event named `N`. */
export type EventData<N extends DataMarketEventName> = Extract<DataMarketEvent, { name: N }>["data"];
