# schedules.gp: every schedule side by side on each workload: clustered bars of median
# wall time (upper panel, min-max error bars) and of load imbalance (lower panel, max /
# mean of per-worker busy time; 1 = perfectly even), one cluster per workload, one bar
# per schedule (then the Python peers).
#
# Usage
#   gnuplot -e "datadir='results/NAME'; outbase='results/NAME/schedules'" plots/schedules.gp
# Inputs: datadir, outbase (writes outbase.png and outbase.svg), title and nsched
# (optional, see below).
#
# Contract: reads datadir/plotdata/schedules.dat and datadir/plotdata/schedules_imbalance.dat,
# written by hpool_bench_render() (bench/render.c) from summary.tsv. Tab-separated, '#'
# lines are comments, then a table.
# schedules.dat:
#   header   cluster  SCHED1  min  max  SCHED2  min  max ...   (schedule names quoted)
#   rows     "cluster label"  median1  min1  max1  median2  min2  max2 ...
# schedules_imbalance.dat (same clusters and bars, in the same order):
#   header   cluster  SCHED1  SCHED2 ...
#   rows     "cluster label"  imbalance1  imbalance2 ...
# A cluster is a workload (with impl / workers×threads appended when those vary); a
# bar is the lowest wall_median among the summary rows of that cluster and schedule
# (i.e. each schedule at its best chunksize / api), with that row's min and max and its
# median imbalance. NaN marks a schedule that was not run for a cluster.

hp_here = ""
do for [hp_i = strlen(ARG0):1:-1] { if (hp_here eq "" && ARG0[hp_i:hp_i] eq "/") { hp_here = ARG0[1:hp_i] } }
if (exists("plotsdir")) { hp_here = plotsdir."/" }
load hp_here."common.gp"

f = datadir."/plotdata/schedules.dat"
if (!exists("title")) { title = "wall time by schedule" }

# nsched (optional input) = number of schedules = (columns - 1) / 3; hpool_bench_render
# passes it, otherwise the header line is counted with awk.
stats f using 2 nooutput
nclusters = STATS_records
if (!exists("nsched")) {
    nsched = (int(system(sprintf("awk -F'\t' '!/^#/ {print NF; exit}' '%s'", f))) - 1) / 3
}

fi = datadir."/plotdata/schedules_imbalance.dat"
has_imb = int(system(sprintf("test -s '%s' && echo 1 || echo 0", fi)))

set style data histogram
set style fill solid 0.85 border lc rgb "#333333"
set boxwidth 0.9
set offsets 0, 0, graph 0.06, 0
set xrange [-0.7 : nclusters - 0.3]
set xtics nomirror scale 0
set grid noxtics ytics
px_w = hp_max(900, 300 + nclusters * (nsched * 22 + 40))
px_h = has_imb ? 900 : 560

do for [fmt in "png svg"] {
    eval hp_term(fmt, hp_min(px_w, 2600), px_h)
    set output outbase.".".fmt
    if (has_imb) { set multiplot layout 2, 1 title title } else { set title title }
    set style histogram errorbars gap 1.5 lw 1.2
    set yrange [0:*]
    set ylabel "wall time, median (s); bars: min–max"
    set key outside right top vertical samplen 2 autotitle columnheader
    plot for [i = 0:nsched-1] f using (column(2 + 3*i)):(column(3 + 3*i)):(column(4 + 3*i)):xtic(1) \
        title columnheader(2 + 3*i) lt hp_lt(i)
    if (has_imb) {
        set style histogram clustered gap 1.5
        set yrange [0.9:*]
        set ylabel "load imbalance (max / mean busy)"
        unset title
        plot for [i = 0:nsched-1] fi using (column(2 + i)):xtic(1) title columnheader(2 + i) lt hp_lt(i), \
            1 with lines dt 2 lc rgb "#444444" notitle
        unset multiplot
    }
    unset output
}
