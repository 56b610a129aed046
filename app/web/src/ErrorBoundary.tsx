// A render failure shows one sentence and a way back, never a stack trace.
import { Component, type ReactNode } from "react";

import { explainForPeople } from "./errors.js";

export class ErrorBoundary extends Component<{ children: ReactNode; resetKey: string }, { message: string | null; key: string }> {
  override state = { message: null as string | null, key: this.props.resetKey };

  static getDerivedStateFromError(error: unknown) {
    return { message: explainForPeople(error).message };
  }

  static getDerivedStateFromProps(props: { resetKey: string }, state: { message: string | null; key: string }) {
    return props.resetKey !== state.key ? { message: null, key: props.resetKey } : null;
  }

  override render() {
    if (this.state.message === null) return this.props.children;
    return (
      <section role="alert">
        <h1>This page could not be shown</h1>
        <p>{this.state.message}</p>
        <p><a href="#/">Back to the datasets</a></p>
      </section>
    );
  }
}
