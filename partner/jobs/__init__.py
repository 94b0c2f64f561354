"""Long work off the web request: a job is a task of Django's tasks framework with its progress, its
result and its owner.

A feature registers what a kind of job does (`partner.jobs.registry.register`); a view starts one
(`partner.jobs.services.start`) and sends the user to the job's page, which shows the stage and rows
done while the worker runs it, then the result. A job that was stopped half-way (the worker killed)
wrote nothing, because each kind's work is one transaction: it can be run again from its page.
"""
