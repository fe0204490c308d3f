/** The key legend: 1-9 for the project's classes in order, then the screen's other keys. */
export function KeyLegend({ classes, more = [] }: { classes: readonly string[]; more?: readonly { key: string; does: string }[] }) {
  return (
    <ol className="classes">
      {classes.map((className, index) => (
        <li key={className}>
          <kbd>{index + 1}</kbd> {className}
        </li>
      ))}
      {more.map(({ key, does }) => (
        <li key={key}>
          <kbd>{key}</kbd> {does}
        </li>
      ))}
    </ol>
  );
}
