// One transaction at a time from a form: what is happening, then what happened, in words.
import { useState } from "react";

import { explainForPeople } from "./errors.js";
import { useMarket } from "./market.js";

export type ActionState = { kind: "idle" } | { kind: "busy"; what: string } | { kind: "done"; message: string } | { kind: "failed"; message: string };

export interface Action {
  state: ActionState;
  busy: boolean;
  /** Runs `work`; its result's sentence is shown once it lands, and the pages read the chain again. */
  run(what: string, work: () => Promise<string>): Promise<void>;
}

export function useAction(formatPrice?: (amount: bigint) => string): Action {
  const { connection, refresh } = useMarket();
  const [state, setState] = useState<ActionState>({ kind: "idle" });
  return {
    state,
    busy: state.kind === "busy",
    async run(what, work) {
      setState({ kind: "busy", what });
      try {
        const message = await work();
        setState({ kind: "done", message });
        refresh();
      } catch (error) {
        setState({ kind: "failed", message: explainForPeople(error, { rpcUrl: connection.url, formatPrice }).message });
      }
    },
  };
}

export function ActionStatus({ action }: { action: Action }) {
  const { state } = action;
  return (
    <>
      <div aria-live="polite">
        {state.kind === "busy" ? <p>{state.what}</p> : null}
        {state.kind === "done" ? <p role="status" className="success">{state.message}</p> : null}
      </div>
      {state.kind === "failed" ? <p role="alert" className="error">{state.message}</p> : null}
    </>
  );
}
