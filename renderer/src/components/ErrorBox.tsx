/** A problem to show the user where it happened (announced to screen readers); nothing when there is none. */
export function ErrorBox({ message }: { message: string | null | undefined }) {
  return message ? (
    <div className="error-box" role="alert">
      {message}
    </div>
  ) : null;
}
