"""Performance appraisal (绩效考核): scorecards per person, station and county."""
