// The dashboard's charts, in their own chunk: recharts weighs more than the rest of the dashboard.
import { Bar, BarChart, Cell, Pie, PieChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

const COLOURS = ["#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#c62828"];

export function StatusPie({ statuses }: { statuses: { name: string; value: number }[] }) {
  return (
    <ResponsiveContainer width="100%" height={220}>
      <PieChart>
        <Pie data={statuses} dataKey="value" nameKey="name" outerRadius={80} label isAnimationActive={false}>
          {statuses.map((_, i) => (
            <Cell key={i} fill={COLOURS[i % COLOURS.length]} />
          ))}
        </Pie>
        <Tooltip />
      </PieChart>
    </ResponsiveContainer>
  );
}

export function RegionBars({ regions }: { regions: { region_name: string; count: number }[] }) {
  return (
    <ResponsiveContainer width="100%" height={Math.max(200, regions.length * 24)}>
      <BarChart data={regions} layout="vertical" margin={{ left: 40 }}>
        <XAxis type="number" allowDecimals={false} />
        <YAxis type="category" dataKey="region_name" width={150} interval={0} tick={{ fontSize: 12 }} />
        <Tooltip />
        <Bar dataKey="count" fill="#1565c0" name="Adhérents" isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}

// A questionnaire question's answers: one bar per choice, its count (the percentage in the tooltip).
export function AnswerBars({ counts }: { counts: { value: string | number; count: number; percent: number }[] }) {
  const data = counts.map((c) => ({ name: String(c.value), count: c.count, percent: c.percent }));
  return (
    <ResponsiveContainer width="100%" height={Math.max(120, data.length * 28)}>
      <BarChart data={data} layout="vertical" margin={{ left: 40 }}>
        <XAxis type="number" allowDecimals={false} />
        <YAxis type="category" dataKey="name" width={180} interval={0} tick={{ fontSize: 12 }} />
        <Tooltip formatter={(value, _name, item) => [`${value} (${item.payload.percent} %)`, "Réponses"]} />
        <Bar dataKey="count" fill="#1565c0" name="Réponses" isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}
